#!/usr/bin/env bash
# Stops the processes started by up.sh DIR (by their recorded pids) and removes their data.
set -uo pipefail
dir=${1:?usage: down.sh DIR}
for name in kube-apiserver etcd; do
  pid=$(cat "$dir/$name.pid" 2>/dev/null) || continue
  kill "$pid" 2>/dev/null
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null
  rm -f "$dir/$name.pid"
done
rm -rf "$dir/etcd" "$dir/certs"
