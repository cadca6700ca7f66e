#!/usr/bin/python3
"""Peer 4: ``ovn-nbctl`` in daemon mode (ovn-nbctl(8) "Daemon Mode").

The daemon is started with ``--detach --pidfile`` on the bench server; every switch is one
``ovn-nbctl`` invocation (``OVN_NB_DAEMON`` pointing at the daemon's control socket) with
``--``-chained commands: ``ls-add``, ``set Logical_Switch … external_ids:…``, then per port
``lsp-add``, ``lsp-set-addresses`` and ``set Logical_Switch_Port … external_ids:…``. The
daemon commits that as one transaction and waits for its reply. The client's memory is the
daemon's (``measurePid``); the short-lived ``ovn-nbctl`` front ends are not counted.

- seq:  one invocation after another.
- pipe: not offered (each invocation blocks until the daemon has committed; the daemon
  serves one command at a time).
- sync: time from spawning the daemon until its first command (``ls-list``) returns, which
  the daemon answers only once its replica holds the database.
"""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import bench_common as bc

state = {}


def start_daemon(remote):
    d = state["dir"] = tempfile.mkdtemp(prefix="bench-nbctl-")
    pidfile = os.path.join(d, "nbctl.pid")
    out = subprocess.run(
        ["ovn-nbctl", "--db=" + remote, "--detach", "--no-chdir", "--pidfile=" + pidfile,
         "--log-file=" + os.path.join(d, "nbctl.log"), "--unixctl=" + os.path.join(d, "nbctl.ctl")],
        check=True, capture_output=True, text=True)
    state["pid"] = int(open(pidfile).read().strip())
    state["env"] = dict(os.environ, OVN_NB_DAEMON=out.stdout.strip() or os.path.join(d, "nbctl.ctl"))


def nbctl(*cmd):
    res = subprocess.run(["ovn-nbctl", "--timeout=60", *cmd], env=state["env"], capture_output=True, text=True)
    if res.returncode != 0:
        raise RuntimeError("ovn-nbctl %s: %s" % (" ".join(cmd[:3]), res.stderr.strip()))
    return res.stdout


def ext_ids(ids):
    return ["external_ids:%s=%s" % (k, v) for k, v in ids.items()]


def switch_command(i, ports):
    name = bc.switch_name(i)
    cmd = ["ls-add", name, "--", "set", "Logical_Switch", name, *ext_ids(bc.switch_external_ids(i))]
    for j in range(ports):
        port = bc.port_name(i, j)
        cmd += ["--", "lsp-add", name, port, "--", "lsp-set-addresses", port, bc.port_address(i, j),
                "--", "set", "Logical_Switch_Port", port, *ext_ids(bc.port_external_ids(i))]
    return cmd


def setup(args):
    if args.phase == "pipe":
        return None

    def seq(args):
        start_daemon(args.remote)
        nbctl("ls-list")  # wait until the daemon has synced
        t0 = bc.now()
        for i in range(args.switches):
            nbctl(*switch_command(i, args.ports))
        return {"txns": args.switches, "seconds": bc.now() - t0, "measurePid": state["pid"]}

    def sync(args):
        t0 = bc.now()
        start_daemon(args.remote)
        listed = nbctl("ls-list").count("\n")
        seconds = bc.now() - t0
        if listed != args.switches:
            raise RuntimeError("daemon listed %d switches, expected %d" % (listed, args.switches))
        return {"seconds": seconds, "measurePid": state["pid"], "cache": True,
                "note": "daemon spawn until its first ls-list returned %d switches" % listed}

    return sync if args.phase == "sync" else seq


def cleanup():
    pid = state.get("pid")
    if pid:
        try:
            os.kill(pid, signal.SIGTERM)
            for _ in range(100):
                os.kill(pid, 0)
                time.sleep(0.02)
        except ProcessLookupError:
            pass
    if "dir" in state:
        shutil.rmtree(state["dir"], ignore_errors=True)


if __name__ == "__main__":
    sys.exit(bc.run_peer(setup, cleanup))
