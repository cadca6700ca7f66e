#!/bin/bash
# The shell peer of `npm run bench -- ports` (bench/ports/shell.ts): attaches one VM namespace
# the way shell-driven CNI agents do — one process per command, the address chosen by the
# caller (no IPAM) — and returns once the Southbound Port_Binding is up (ovn-sb(5) `up`).
# Prints one line per step: `<step> <milliseconds>`.
#
# Usage: shell-attach.sh NB SB OVS_DB NODE_NETNS VM_NETNS LS LSP MAC IP/PREFIX GATEWAY HOST TMP MTU
set -euo pipefail
nb=$1 sb=$2 ovs=$3 node=$4 vm=$5 ls=$6 lsp=$7 mac=$8 cidr=$9 gw=${10} host=${11} tmp=${12} mtu=${13}

last=$EPOCHREALTIME
lap() { # prints the step's wall time in ms since the previous lap
  local now=$EPOCHREALTIME
  local us=$(((${now/./} - ${last/./})))
  printf '%s %d.%03d\n' "$1" $((us / 1000)) $((us % 1000))
  last=$EPOCHREALTIME
}

ovn-nbctl --db="$nb" --timeout=30 lsp-add "$ls" "$lsp"
lap lsp-add
ovn-nbctl --db="$nb" --timeout=30 lsp-set-addresses "$lsp" "$mac ${cidr%/*}"
lap lsp-set-addresses

ip -n "$node" link add "$host" mtu "$mtu" type veth peer name "$tmp"
ip -n "$node" link set "$tmp" netns "$vm"
ip -n "$vm" link set "$tmp" name eth0 address "$mac" mtu "$mtu"
ip -n "$vm" addr add "$cidr" dev eth0
ip -n "$vm" link set eth0 up
ip -n "$vm" route add default via "$gw"
ip netns exec "$vm" ethtool -K eth0 tx off >/dev/null
ip -n "$node" link set "$host" up
lap veth

# Without --no-wait: returns once ovs-vswitchd applied the change.
ovs-vsctl --db="$ovs" --timeout=30 add-port br-int "$host" -- set Interface "$host" "external_ids:iface-id=$lsp"
lap ovs-vsctl

# Monitors the row until ovn-controller set up=true (rather than polling `get` in a loop).
ovn-sbctl --db="$sb" --timeout=60 wait-until Port_Binding "$lsp" up=true
lap sb-wait-up
