# vpc-agent image: built with the current Node LTS; the agent itself also runs on Node 20.
# Build: docker build -t vpc-agent .
FROM node:24-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts
# Sources only (see .dockerignore): tsconfig, agent/, ovsdb/, netlink/.
COPY . .
RUN npm run build && npm prune --omit=dev

FROM node:24-bookworm-slim
# Host networking tools the agent drives where netlink does not serve
# (namespaces, nftables NAT, checksum offload).
RUN apt-get update \
 && apt-get install -y --no-install-recommends iproute2 nftables ethtool ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/vpc-agent
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY package.json README.md ./
ENTRYPOINT ["node", "/opt/vpc-agent/dist/agent/cli.js"]
CMD ["--help"]
