#!/usr/bin/env bash
# scripts/containers.sh — podman on a machine without a container registry: the engine's
# settings, a private image store, and the images the container test tier runs.
#
#   bash scripts/containers.sh images     build what is missing: the base, the OVN image; then
#                                         the agent image (podman's layer cache makes a rebuild
#                                         of unchanged sources take seconds)
#   bash scripts/containers.sh env        print the environment podman needs here (KEY=VALUE)
#   bash scripts/containers.sh podman …   run podman with that environment
#   bash scripts/containers.sh clean      remove the image store (the next `images` is cold)
#
# Images (all local, never pushed):
#   localhost/vpc-agent-base:bookworm  Debian 12 minbase from debootstrap + Node (the host's
#                                      node binary and npm) + the host's CA bundle
#   localhost/vpc-agent-ovn:bookworm   the base + ovn-central, ovn-host, openvswitch-switch
#   localhost/vpc-agent:test           the project's Dockerfile, FROM the base
#
# Settings (containers.conf(5), containers-storage.conf(5)), written under $VPC_AGENT_CONTAINERS_DIR
# (default /var/tmp/vpc-agent-containers):
#   - default_ulimits: root here lacks CAP_SYS_RESOURCE, and podman's default rlimits fail with
#     "setrlimit RLIMIT_NOFILE: Operation not permitted";
#   - runtime = "runc": crun refuses a kernel with hybrid cgroups;
#   - a graphroot of its own, so images stay out of /var/lib/containers.
# The CA bundle: HTTPS from inside a build may be intercepted by a proxy that the host trusts;
# the local base trusts what the host trusts (NODE_EXTRA_CA_CERTS for npm). The Dockerfile is
# the same one that builds in the world from node:24-bookworm-slim.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DIR=${VPC_AGENT_CONTAINERS_DIR:-/var/tmp/vpc-agent-containers}
BASE_IMAGE=localhost/vpc-agent-base:bookworm
OVN_IMAGE=localhost/vpc-agent-ovn:bookworm
AGENT_IMAGE=${VPC_AGENT_IMAGE:-localhost/vpc-agent:test}
CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt

# Temporary directories (a root file system, a build context): removed on any exit.
TEMP_DIRS=()
trap 'rm -rf "${TEMP_DIRS[@]}"' EXIT

write_config() {
  mkdir -p "$DIR/storage"
  cat >"$DIR/containers.conf" <<'EOF'
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]

[engine]
runtime = "runc"
EOF
  cat >"$DIR/storage.conf" <<EOF
[storage]
driver = "overlay"
graphroot = "$DIR/storage"
runroot = "/run/vpc-agent-containers"
EOF
}

print_env() {
  echo "CONTAINERS_CONF=$DIR/containers.conf"
  echo "CONTAINERS_STORAGE_CONF=$DIR/storage.conf"
  echo "VPC_AGENT_BASE_IMAGE=$BASE_IMAGE"
  echo "VPC_AGENT_OVN_IMAGE=$OVN_IMAGE"
  echo "VPC_AGENT_IMAGE=$AGENT_IMAGE"
}

pod() {
  CONTAINERS_CONF="$DIR/containers.conf" CONTAINERS_STORAGE_CONF="$DIR/storage.conf" podman "$@"
}

have_image() { pod image exists "$1"; }

# The Debian mirror apt uses here (deb822 sources first, then sources.list).
debian_mirror() {
  local uri
  uri=$(grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}' | grep -v security | head -n1 || true)
  [ -n "$uri" ] || uri=$(grep -hs '^deb ' /etc/apt/sources.list | awk '{print $2}' | grep -v security | head -n1 || true)
  echo "${uri:-http://deb.debian.org/debian}"
}

build_base() {
  local node npm_dir rootfs
  node=$(readlink -f "$(command -v node)")
  npm_dir=$(cd "$(dirname "$(readlink -f "$(command -v npm)")")/.." && pwd)
  [ -f "$npm_dir/bin/npm-cli.js" ] || { echo "containers: npm not found beside $(command -v npm)" >&2; exit 1; }
  rootfs=$(mktemp -d "$DIR/rootfs.XXXXXX")
  TEMP_DIRS+=("$rootfs")
  echo "containers: debootstrap bookworm from $(debian_mirror)"
  debootstrap --variant=minbase bookworm "$rootfs" "$(debian_mirror)" >"$DIR/debootstrap.log" 2>&1 ||
    { tail -n 20 "$DIR/debootstrap.log" >&2; exit 1; }
  rm -f "$rootfs"/var/cache/apt/archives/*.deb
  install -m 0755 "$node" "$rootfs/usr/local/bin/node"
  mkdir -p "$rootfs/usr/local/lib/node_modules"
  cp -a "$npm_dir" "$rootfs/usr/local/lib/node_modules/npm"
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"
  install -D -m 0644 "$CA_BUNDLE" "$rootfs/etc/ssl/certs/ca-certificates.crt"
  tar -C "$rootfs" -c . | pod import --quiet \
    --change 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt' \
    --change 'CMD ["/bin/bash"]' - "$BASE_IMAGE" >/dev/null
}

# $1: an empty directory for the build context (made by the caller: this runs in the background).
build_ovn() {
  local ctx=$1
  cat >"$ctx/Containerfile" <<'EOF'
ARG BASE
FROM ${BASE}
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      ovn-central ovn-host openvswitch-switch iproute2 \
 && rm -rf /var/lib/apt/lists/*
EOF
  pod build --quiet --pull=never --network=host --build-arg "BASE=$BASE_IMAGE" -t "$OVN_IMAGE" "$ctx" >/dev/null
}

build_agent() {
  # --format docker: the OCI image format has no HEALTHCHECK.
  pod build --quiet --pull=never --network=host --format docker --build-arg "BASE=$BASE_IMAGE" \
    -t "$AGENT_IMAGE" -f "$ROOT/Dockerfile" "$ROOT" >/dev/null
}

timed() {
  local what=$1 start=$SECONDS
  shift
  "$@"
  echo "containers: $what ready ($((SECONDS - start)) s)"
}

case "${1:-}" in
  images)
    write_config
    if ! command -v podman >/dev/null || ! command -v debootstrap >/dev/null; then
      echo "containers: podman/debootstrap missing; run scripts/setup.sh as root" >&2
      exit 1
    fi
    have_image "$BASE_IMAGE" || timed "$BASE_IMAGE" build_base
    # Both FROM the base: side by side, as the builds wait on the mirror and the npm registry.
    ovn=0
    if ! have_image "$OVN_IMAGE"; then
      ctx=$(mktemp -d "$DIR/ovn-context.XXXXXX")
      TEMP_DIRS+=("$ctx")
      timed "$OVN_IMAGE" build_ovn "$ctx" &
      ovn=$!
    fi
    status=0
    timed "$AGENT_IMAGE" build_agent || status=$?
    [ "$ovn" = 0 ] || wait "$ovn" || status=$?
    # Earlier builds' untagged images pile up as the sources change; a day's are kept as cache.
    pod image prune --force --filter until=24h >/dev/null || true
    exit "$status"
    ;;
  env)
    print_env
    ;;
  podman)
    shift
    write_config
    pod "$@"
    ;;
  clean)
    write_config
    # Only this store: its containers, then its images (which unmounts their layers).
    pod rm --all --force --time 0 >/dev/null
    pod rmi --all --force >/dev/null
    rm -rf "$DIR"
    ;;
  *)
    sed -n '2,27p' "$0"
    exit 2
    ;;
esac
