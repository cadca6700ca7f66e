#!/usr/bin/env bash
# scripts/setup.sh — prepare a Debian 12 machine for vpc-agent and its tests. Idempotent.
#
#   bash scripts/setup.sh [--quiet]
#
# 1. Installs the Debian packages the sandbox and tests use, only if one is missing
#    (checked with a single dpkg-query). Package installation never starts or alters a
#    system-wide OVS/OVN: service starts are denied through /usr/sbin/policy-rc.d
#    (invoke-rc.d(8) "POLICY-RC.D"); if that file does not exist, a temporary one is put in
#    place for the duration of the install and removed afterwards.
# 2. Runs `npm ci` only if node_modules is missing or older than package-lock.json.
#
# --quiet prints nothing when everything is already present. Takes well under a second then.
set -euo pipefail

QUIET=0
for arg in "$@"; do
  case "$arg" in
    --quiet | -q) QUIET=1 ;;
    -h | --help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "setup.sh: unknown argument: $arg" >&2; exit 2 ;;
  esac
done

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PACKAGES=(ovn-central ovn-host openvswitch-switch iproute2 nftables ethtool busybox iputils-ping procps curl
  python3-openvswitch python3-ovsdbapp openssl prometheus conntrack iputils-arping iptables util-linux systemd
  podman runc debootstrap gcc libc6-dev)

say() { [ "$QUIET" = 1 ] || echo "setup: $*"; }

# --------------------------------------------------------------- Debian packages
# One dpkg-query for all packages; unknown ones are simply absent from its output.
installed=" $(dpkg-query -W -f='${db:Status-Status}:${Package} ' "${PACKAGES[@]}" 2>/dev/null || true)"
missing=()
for p in "${PACKAGES[@]}"; do
  case "$installed" in *" installed:$p "*) ;; *) missing+=("$p") ;; esac
done

if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "setup: missing packages (${missing[*]}); run this script as root to install them" >&2
    exit 1
  fi
  echo "setup: installing ${missing[*]}"
  POLICY=/usr/sbin/policy-rc.d
  TEMP_POLICY=0
  if [ ! -e "$POLICY" ]; then
    # Deny every service start while packages are installed: the sandbox runs its own
    # private daemons, the system OVS/OVN must stay untouched.
    printf '#!/bin/sh\n# temporary, created by vpc-agent scripts/setup.sh\nexit 101\n' >"$POLICY"
    chmod 755 "$POLICY"
    TEMP_POLICY=1
    trap 'rm -f "$POLICY"' EXIT
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
  if [ "$TEMP_POLICY" = 1 ]; then
    rm -f "$POLICY"
    trap - EXIT
  fi
else
  say "Debian packages present"
fi

# --------------------------------------------------------------- Node.js dependencies
if ! command -v node >/dev/null 2>&1; then
  echo "setup: Node.js >= 20.19 is required (e.g. from https://nodejs.org or NodeSource)" >&2
  exit 1
fi
cd "$ROOT"
# npm writes node_modules/.package-lock.json on every install; compare with the lock file.
if [ ! -e node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: npm ci"
  # --ignore-scripts: the same install on every npm version (npm 11 already skips
  # dependency install scripts). netlink and koffi load their prebuilt binaries and
  # esbuild its platform package without them; nothing is compiled on the machine.
  npm ci --no-audit --no-fund --ignore-scripts
else
  say "node_modules up to date"
fi
