#!/usr/bin/env bash
# bench/nat/peer.sh — the peer of `npm run bench -- nat`: a NAT gateway driven the way a script
# that runs one iptables command per rule does it. Runs inside the gateway namespace
# (`ip netns exec NS bash peer.sh …`); rules come on stdin, one per line: "EIP PROTO PORT IP:PORT".
#
#   peer.sh init CIDR EIP   flush the nat table, add the SNAT rule
#   peer.sh add             append one DNAT rule per stdin line, one iptables process each
#   peer.sh change          line 1 = the rule to delete, line 2 = the rule to add
set -euo pipefail

dnat() { # $1 = -A or -D, then EIP PROTO PORT TO
  iptables -t nat "$1" PREROUTING -d "$2" -p "$3" --dport "$4" -j DNAT --to-destination "$5"
}

case "${1:-}" in
  init)
    iptables -t nat -F
    iptables -t nat -A POSTROUTING -o net2 -s "$2" -j SNAT --to-source "$3"
    ;;
  add)
    while read -r eip proto port to; do dnat -A "$eip" "$proto" "$port" "$to"; done
    ;;
  change)
    read -r eip proto port to
    dnat -D "$eip" "$proto" "$port" "$to"
    read -r eip proto port to
    dnat -A "$eip" "$proto" "$port" "$to"
    ;;
  *)
    echo "usage: peer.sh init CIDR EIP | add | change" >&2
    exit 2
    ;;
esac
