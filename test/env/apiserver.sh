#!/usr/bin/env bash
# Stops, or starts again, only the kube-apiserver of `up.sh DIR` (etcd and its data stay): for tests of an
# apiserver restart, without touching the apiserver other test files share.
#   bash test/env/apiserver.sh stop DIR [SIGNAL]  → sends SIGNAL (default TERM; KILL after 10 s) and waits until it is gone
#   bash test/env/apiserver.sh start DIR          → the same command line (port, certificates, tokens, flags) as
#                                                   up.sh; exits 0 once /readyz answers. down.sh DIR stops it as before.
set -euo pipefail
action=${1:?usage: apiserver.sh stop|start DIR}
dir=${2:?usage: apiserver.sh stop|start DIR}

case $action in
stop)
  pid=$(cat "$dir/kube-apiserver.pid")
  kill -s "${3:-TERM}" "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || exit 0; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || exit 0; sleep 0.1; done
  echo "testenv: kube-apiserver $pid did not stop" >&2; exit 1
  ;;
start)
  mapfile -d '' cmd < "$dir/kube-apiserver.cmd"
  # shellcheck disable=SC1091
  source "$dir/env"
  "${cmd[@]}" >> "$dir/logs/kube-apiserver.log" 2>&1 &
  echo $! > "$dir/kube-apiserver.pid"
  for _ in $(seq 1 240); do
    if curl -sf --cacert "$CA_FILE" -H "Authorization: Bearer $ADMIN_TOKEN" "$APISERVER_URL/readyz" >/dev/null 2>&1; then
      echo "testenv: kube-apiserver ready again at $APISERVER_URL" >&2; exit 0
    fi
    if ! kill -0 "$(cat "$dir/kube-apiserver.pid")" 2>/dev/null; then
      echo "testenv: kube-apiserver did not start again; last log lines:" >&2; tail -n 20 "$dir/logs/kube-apiserver.log" >&2; exit 1
    fi
    sleep 0.5
  done
  echo "testenv: /readyz did not answer in 120 s" >&2; tail -n 20 "$dir/logs/kube-apiserver.log" >&2; exit 1
  ;;
*) echo "usage: apiserver.sh stop|start DIR" >&2; exit 2 ;;
esac
