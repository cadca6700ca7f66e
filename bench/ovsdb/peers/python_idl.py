#!/usr/bin/python3
"""Peer 2: Open vSwitch's Python IDL (python3-openvswitch, ``ovs.db.idl``).

A ``SchemaHelper`` on the NB schema file with ``register_all()`` (a full replica, as the IDL is
normally used), one ``Transaction`` per switch: the switch and its ports are inserted as IDL
rows, the ports referenced through the switch's ``ports`` column.

- seq:  ``txn.commit_block()`` per switch.
- pipe: the IDL lets a transaction be committed without waiting: ``commit()`` sends the
  ``transact`` and returns INCOMPLETE, after which the IDL accepts a new transaction while the
  first one is outstanding. So every transaction is composed and ``commit()``ed back to back
  (window = all), then ``Idl.run()`` is driven until every status is final.
- sync: a fresh ``Idl`` (it asks ``monitor_cond_since``), timed from construction until
  ``has_ever_connected()``, i.e. the initial contents are in the replica.
"""

import sys

import ovs.db.idl
import ovs.poller

import bench_common as bc

IDL = ovs.db.idl


def connect(args):
    helper = IDL.SchemaHelper(location=args.schema)
    helper.register_all()
    return IDL.Idl(args.remote, helper)


def drive(idl, done):
    """Runs the IDL's protocol processing until ``done()``."""
    while not done():
        idl.run()
        if done():
            return
        poller = ovs.poller.Poller()
        idl.wait(poller)
        poller.timer_wait(100)
        poller.block()


def compose(idl, i, ports):
    txn = IDL.Transaction(idl)
    lsp_table = idl.tables["Logical_Switch_Port"]
    refs = []
    for j in range(ports):
        p = txn.insert(lsp_table)
        p.name = bc.port_name(i, j)
        p.addresses = [bc.port_address(i, j)]
        p.external_ids = bc.port_external_ids(i)
        refs.append(p)
    ls = txn.insert(idl.tables["Logical_Switch"])
    ls.name = bc.switch_name(i)
    ls.external_ids = bc.switch_external_ids(i)
    ls.ports = refs
    return txn


def check(txn):
    status = txn.commit()
    if status != IDL.Transaction.SUCCESS:
        raise RuntimeError("transaction %s: %s" % (status, txn.get_error()))


state = {}


def setup(args):
    def write(args):
        idl = state["idl"] = connect(args)
        drive(idl, idl.has_ever_connected)
        t0 = bc.now()
        if args.phase == "seq":
            for i in range(args.switches):
                txn = compose(idl, i, args.ports)
                txn.commit_block()
                check(txn)
        else:
            txns = []
            for i in range(args.switches):
                txn = compose(idl, i, args.ports)
                if txn.commit() != IDL.Transaction.INCOMPLETE:
                    raise RuntimeError("commit did not start: %s" % txn.get_error())
                txns.append(txn)
            finished = [0]  # replies come back in order: advance over completed ones

            def all_done():
                while finished[0] < len(txns) and txns[finished[0]].commit() != IDL.Transaction.INCOMPLETE:
                    finished[0] += 1
                return finished[0] == len(txns)

            drive(idl, all_done)
            for txn in txns:
                check(txn)
        seconds = bc.now() - t0
        result = {"txns": args.switches, "seconds": seconds}
        if args.phase == "pipe":
            result["note"] = "commit() without waiting for each reply, window = all"
        return result

    def sync(args):
        t0 = bc.now()
        idl = state["idl"] = connect(args)
        drive(idl, idl.has_ever_connected)
        seconds = bc.now() - t0
        rows = sum(len(t.rows) for t in idl.tables.values())
        return {"seconds": seconds, "rows": rows, "cache": True, "note": "monitor_cond_since into the IDL replica"}

    return sync if args.phase == "sync" else write


def cleanup():
    if "idl" in state:
        state["idl"].close()


if __name__ == "__main__":
    sys.exit(bc.run_peer(setup, cleanup))
