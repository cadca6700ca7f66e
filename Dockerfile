# vpc-agent image.
#
#   docker build -t vpc-agent .                        # in the world: FROM node:24-bookworm-slim
#   podman build --pull=never --format docker \
#     --build-arg BASE=localhost/vpc-agent-base:bookworm -t localhost/vpc-agent:test .
#                                                      # without a registry (scripts/containers.sh)
#
# BASE is any Debian 12 (bookworm) image with Node >= 20.19 and npm on PATH.
#
# Who runs as whom:
# - the build stage (npm ci, tsc) runs as the unprivileged user `node` (uid 1000);
# - the agent runs as root: as a DaemonSet pod it creates and enters network namespaces
#   (setns, mount under /run/netns), moves veths, programs nftables and writes per-namespace
#   sysctls, which need CAP_SYS_ADMIN and CAP_NET_ADMIN in the node's namespaces. The
#   DaemonSet (deploy/daemonset.yaml) grants them; the image cannot drop to another user
#   without losing them;
# - the CNI installer (`cp` of dist/cni/ into the host's /opt/cni/bin, the DaemonSet's init
#   container) runs as root because that directory belongs to root on the node.
ARG BASE=node:24-bookworm-slim

FROM ${BASE} AS build
# A C compiler for the native thin CNI plugin (agent/cni/vpc-agent-cni.c, linked statically).
# The official node images have the user `node`; a local base may not.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends gcc libc6-dev \
 && rm -rf /var/lib/apt/lists/* \
 && (id -u node >/dev/null 2>&1 || useradd --create-home --uid 1000 --shell /usr/sbin/nologin node) \
 && mkdir -p /src && chown node:node /src
USER node
WORKDIR /src
COPY --chown=node:node package.json package-lock.json ./
# --ignore-scripts: netlink and koffi load their prebuilt binaries; nothing is compiled.
RUN npm ci --ignore-scripts --no-audit --no-fund
# Sources only (see .dockerignore).
COPY --chown=node:node . .
# `npm run build` writes dist/: the agent (dist/agent/cli.js), the CNI plugin bundle
# (dist/cni/vpc-agent-cni.cjs) and the native thin plugin (dist/cni/vpc-agent-cni-thin, which
# install-cni puts on nodes as kube-ovn and vpc-agent-cni); `build:cni-sea` makes the plugin one
# executable with Node inside (dist/cni/vpc-agent-cni), installed beside it.
RUN npm run build \
 && test -x dist/cni/vpc-agent-cni-thin \
 && npm run build:cni-sea \
 && chmod 0755 dist/agent/cli.js \
 && npm prune --omit=dev --ignore-scripts --no-audit --no-fund

FROM ${BASE}
# Only what the agent runs besides its own netlink/OVSDB code:
#   iproute2 (ip netns / ip link where netlink does not serve), nftables (NAT gateways),
#   ethtool (checksum offload), procps (sysctl), conntrack (NAT gateway flows),
#   iputils-arping (gratuitous ARP for EIPs), ovn-common (ovn-trace for /debug/trace).
# No ovs-vsctl/ovs-appctl: the agent speaks OVSDB and unixctl itself.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      iproute2 nftables ethtool procps conntrack iputils-arping ovn-common ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/vpc-agent
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
RUN ln -s /opt/vpc-agent/dist/agent/cli.js /usr/local/bin/vpc-agent
# /healthz is served on the `--listen` address; the DaemonSet and the container tier use
# port 9470. Kubernetes ignores HEALTHCHECK (it has the DaemonSet's probes); docker and
# podman (with --format docker) run it.
ENV VPC_AGENT_HEALTH_URL=http://127.0.0.1:9470/healthz
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch(process.env.VPC_AGENT_HEALTH_URL,{signal:AbortSignal.timeout(4000)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["vpc-agent"]
CMD ["--help"]
