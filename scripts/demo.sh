#!/usr/bin/env bash
# The README's first command (`npm run demo`): installs what is missing, then runs
# `vpc-agent demo`: a local OVN sandbox, the agent on examples/vpc-two-subnets, two VMs
# attached through its port API pinging each other. `npm run demo -- --keep` keeps the sandbox.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --quiet
# Human-readable output on stdout; the JSON logs only for warnings unless asked.
export VPC_AGENT_LOG_LEVEL="${VPC_AGENT_LOG_LEVEL:-warn}"
exec node_modules/.bin/tsx agent/cli.ts demo "$@"
