#!/usr/bin/env bash
# Makes a fresh checkout runnable: the project's own Node 24 + Deno under .tools/, and npm dependencies.
# Prints the tools' bin directory for PATH. Quiet when everything is already there.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=$(bash "$root/scripts/tools.sh")
if [ ! -d "$root/node_modules/@kubernetes/client-node" ] || [ "$root/package-lock.json" -nt "$root/node_modules/.package-lock.json" ]; then
  echo "kubetrail: installing npm dependencies" >&2
  (cd "$root" && PATH="$bin:$PATH" npm ci --no-audit --no-fund --loglevel=error >&2)
fi
echo "$bin"
