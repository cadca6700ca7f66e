"""Shared by the Python peers of the OVSDB benchmark.

Twin of ``bench/ovsdb/workload.ts`` (names, addresses and external_ids derived from the switch
index i and port index j; keep both identical) and of the runner <-> peer protocol in
``bench/ovsdb/protocol.ts``: print ``{"event":"ready"}``, wait for ``go`` on stdin, run the
phase, print one ``{"event":"result",...}`` line, keep the state alive until stdin EOF.
"""

import argparse
import json
import sys
import time
import traceback

OWNER_KEY = "vpc-agent-bench/owner"
OWNER_VALUE = "bench"
INDEX_KEY = "vpc-agent-bench/index"
SWITCH_KEY = "vpc-agent-bench/switch"


def switch_name(i):
    return "bench-ls-%d" % i


def port_name(i, j):
    return "bench-ls-%d-p%d" % (i, j)


def port_address(i, j):
    """``"MAC IP"`` as ovn-nb(5) Logical_Switch_Port ``addresses`` expects."""
    mac = "0a:%02x:%02x:%02x:%02x:%02x" % (
        (i >> 16) & 0xFF, (i >> 8) & 0xFF, i & 0xFF, (j >> 8) & 0xFF, j & 0xFF)
    return "%s 10.%d.%d.%d" % (mac, (i >> 8) & 0xFF, i & 0xFF, j + 2)


def switch_external_ids(i):
    return {OWNER_KEY: OWNER_VALUE, INDEX_KEY: str(i)}


def port_external_ids(i):
    return {OWNER_KEY: OWNER_VALUE, SWITCH_KEY: switch_name(i)}


def parse_args():
    p = argparse.ArgumentParser()
    p.add_argument("--remote", required=True)
    p.add_argument("--phase", required=True, choices=["seq", "pipe", "sync"])
    p.add_argument("--switches", type=int, required=True)
    p.add_argument("--ports", type=int, required=True)
    p.add_argument("--schema", required=True)
    return p.parse_args()


def _print(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def run_peer(setup, cleanup=None):
    """``setup(args)`` returns ``phase(args) -> dict`` (the result without event/phase), or
    None when the phase is not supported; ``cleanup()`` runs at the end in any case."""
    try:
        args = parse_args()
        phase = setup(args)
        if phase is None:
            _print({"event": "unavailable", "message": "phase %s not supported" % args.phase})
            return 0
        _print({"event": "ready"})
        if sys.stdin.readline().strip() != "go":
            raise RuntimeError('expected "go" on stdin')
        result = phase(args)
        result.update({"event": "result", "phase": args.phase})
        _print(result)
        while sys.stdin.readline():
            pass  # hold the loaded state until the runner has sampled our memory
        return 0
    except Exception:  # noqa: BLE001 - reported to the runner
        _print({"event": "error", "message": traceback.format_exc()})
        return 1
    finally:
        if cleanup is not None:
            cleanup()


def now():
    return time.perf_counter()
