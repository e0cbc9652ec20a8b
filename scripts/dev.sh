#!/usr/bin/env bash
# The whole thing locally: installs what is missing (Node 24, dependencies, the pinned Crossbar),
# then starts Postgres (local or embedded), migrations + demo data, Crossbar and wamp-authd.
set -euo pipefail
cd "$(dirname "$0")/.."
NODE_BIN="$(bash scripts/ensure-node.sh)"
export PATH="$NODE_BIN:$PATH"
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
AUTHD_CROSSBAR="${AUTHD_CROSSBAR:-$(bash scripts/ensure-crossbar.sh)}"
export AUTHD_CROSSBAR
exec npm run --silent dev
