#!/usr/bin/env bash
# Stops the Gitea started by forge-up.sh DIR.
set -uo pipefail
dir=${1:?usage: forge-down.sh DIR}
pid=$(cat "$dir/gitea.pid" 2>/dev/null) || exit 0
kill "$pid" 2>/dev/null
for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || exit 0; sleep 0.1; done
kill -9 "$pid" 2>/dev/null
exit 0
