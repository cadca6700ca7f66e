#!/bin/sh
# vpc-agent's CNI plugin, thin form: installed as /opt/cni/bin/kube-ovn and vpc-agent-cni.
#
# A runtime starts the plugin once per NIC, and a burst of VMs starts it many times at once: a
# Node process costs about 0.14 s of CPU to start, this shell and one curl a few milliseconds.
# It forwards the call as it came (the network config from stdin as the body, CNI_* as x-cni-*
# headers) to the agent's POST /v1/cni on the socket the config names (`server_socket`), and the
# agent runs the command and answers with the plugin's output: 200 and the result, or 422 and
# the CNI error object. Without curl, the self-contained plugin beside it (vpc-agent-cni-bin)
# does the same in-process.
set -u
here=$(dirname "$0")
if ! command -v curl >/dev/null 2>&1; then
  exec "$here/vpc-agent-cni-bin"
fi
conf=$(cat)

# The config's "server_socket" and "cniVersion", read with the shell alone (no parser started).
field() {
  case $conf in
    *"\"$1\""*)
      rest=${conf#*\"$1\"}
      rest=${rest#*\"}
      printf '%s' "${rest%%\"*}"
      ;;
  esac
}
if [ "${CNI_COMMAND:-}" = VERSION ]; then
  # Answered here (VERSION needs no agent), in the config's version when it is one of ours.
  version=$(field cniVersion)
  case $version in 0.3.0 | 0.3.1 | 0.4.0 | 1.0.0 | 1.1.0) ;; *) version=1.1.0 ;; esac
  printf '{"cniVersion":"%s","supportedVersions":["0.3.0","0.3.1","0.4.0","1.0.0","1.1.0"]}\n' "$version"
  exit 0
fi
sock=$(field server_socket)
[ -n "$sock" ] || sock=/run/openvswitch/kube-ovn-daemon.sock
out=$(printf '%s' "$conf" | curl -sS --fail-with-body --max-time 300 --unix-socket "$sock" \
  -H 'content-type: application/json' \
  -H "x-cni-command: ${CNI_COMMAND:-}" \
  -H "x-cni-containerid: ${CNI_CONTAINERID:-}" \
  -H "x-cni-netns: ${CNI_NETNS:-}" \
  -H "x-cni-ifname: ${CNI_IFNAME:-}" \
  -H "x-cni-args: ${CNI_ARGS:-}" \
  -H "x-cni-path: ${CNI_PATH:-}" \
  --data-binary @- http://vpc-agent/v1/cni 2>/dev/null)
rc=$?
if [ "$rc" -eq 0 ]; then
  [ -z "$out" ] || printf '%s\n' "$out"
  exit 0
fi
if [ "$rc" -eq 22 ] && [ -n "$out" ]; then
  # The agent's CNI error object.
  printf '%s\n' "$out"
  printf 'vpc-agent-cni: %s\n' "$out" >&2
  exit 1
fi
version=$(field cniVersion)
[ -n "$version" ] || version=1.0.0
# 11: try again later (CNI spec, well-known error codes).
printf '{"cniVersion":"%s","code":11,"msg":"vpc-agent is not answering on %s (curl exit %s)"}\n' \
  "$version" "$sock" "$rc"
printf 'vpc-agent-cni: the agent is not answering on %s (curl exit %s)\n' "$sock" "$rc" >&2
exit 1
