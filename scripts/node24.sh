#!/usr/bin/env bash
# Runs a command with Node.js 24 LTS on PATH, installing it first from the npm registry's `node` package
# into ./.node (git-ignored) when it is not there yet. Build machines ship Node 20 (end of life April
# 2026); this keeps the project's runtime a property of the project, not of the machine.
#   scripts/node24.sh npm ci && scripts/node24.sh npm test
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
version="24.21.0"
prefix="$root/.node"
bin="$prefix/node_modules/.bin"
if [ ! -x "$bin/node" ] || [ "$("$bin/node" --version)" != "v$version" ]; then
  npm install --prefix "$prefix" --no-save --no-package-lock --no-audit --no-fund --loglevel=error "node@$version" >&2
fi
export PATH="$bin:$PATH"
# The machine's npm builds native addons against Node 20's headers (nodedir=/usr): point any addon that
# still compiles at the packaged Node 24's own headers instead.
for dir in "$prefix"/node_modules/node/node_modules/node-*; do
  [ -d "$dir/include/node" ] && export npm_config_nodedir="$dir"
done
exec "$@"
