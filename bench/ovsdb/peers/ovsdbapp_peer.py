#!/usr/bin/python3
"""Peer 3: ovsdbapp (python3-ovsdbapp), as Neutron's OVN driver uses it.

``OvsdbIdl.from_server`` (fetches the schema, registers all tables) + ``Connection`` (its own
IDL thread) + ``OvnNbApiIdlImpl``; per switch one ``with api.transaction(check_error=True)``
holding ``ls_add`` and, for each port, ``lsp_add`` + ``lsp_set_addresses``, external_ids
passed as columns; rows are referred to by name (resolved through ovsdbapp's name indexes).

- seq:  one transaction after another (the ``with`` block waits for the result).
- pipe: not offered. ovsdbapp hands each transaction to its connection thread through a
  queue of size 1 and runs it there with ``commit_block()``, one at a time; a caller cannot
  have two transactions in flight on one connection.
- sync: a fresh connection, timed from ``from_server`` (schema fetch included, as in normal
  use) until ``Connection.start()`` returns with the initial contents in the IDL.
"""

import sys

from ovsdbapp.backend.ovs_idl import connection
from ovsdbapp.schema.ovn_northbound import impl_idl

import bench_common as bc

TIMEOUT = 120
state = {}


def open_api(remote):
    """As Neutron does: the API object gets the connection unstarted, so that it first creates
    its name indexes (``auto_index``; skipped on a running connection, which would make every
    lookup by name a scan of the table) and then starts it, waiting for the initial sync."""
    idl = connection.OvsdbIdl.from_server(remote, "OVN_Northbound")
    conn = state["conn"] = connection.Connection(idl=idl, timeout=TIMEOUT)
    return impl_idl.OvnNbApiIdlImpl(conn)


def rows_in(idl):
    return sum(len(t.rows) for t in idl.tables.values())


def setup(args):
    if args.phase == "pipe":
        return None

    def seq(args):
        api = open_api(args.remote)
        t0 = bc.now()
        for i in range(args.switches):
            with api.transaction(check_error=True) as txn:
                name = bc.switch_name(i)
                txn.add(api.ls_add(name, external_ids=bc.switch_external_ids(i)))
                for j in range(args.ports):
                    port = bc.port_name(i, j)
                    txn.add(api.lsp_add(name, port, external_ids=bc.port_external_ids(i)))
                    txn.add(api.lsp_set_addresses(port, [bc.port_address(i, j)]))
        return {"txns": args.switches, "seconds": bc.now() - t0}

    def sync(args):
        t0 = bc.now()
        open_api(args.remote)
        seconds = bc.now() - t0
        rows = rows_in(state["conn"].idl)
        return {"seconds": seconds, "rows": rows, "cache": True,
                "note": "from_server (get_schema) + Connection.start() until the IDL is synced"}

    return sync if args.phase == "sync" else seq


def cleanup():
    if "conn" in state:
        state["conn"].stop(timeout=5)


if __name__ == "__main__":
    sys.exit(bc.run_peer(setup, cleanup))
