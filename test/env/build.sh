#!/usr/bin/env bash
# Builds kube-apiserver and etcd from Go modules (pinned in test/env/go/*/go.mod) into a cache outside the repo.
# Prints the cache directory on stdout; progress goes to stderr. A warm cache returns at once.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
k8s=$(awk '/^require k8s.io\/kubernetes/ {print $3}' "$here/go/apiserver/go.mod")
etcd=$(awk '/^require go.etcd.io\/etcd\/server\/v3/ {print $3}' "$here/go/etcd/go.mod")
cache=${KUBETRAIL_TESTENV_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kubetrail-testenv}/k8s-$k8s-etcd-$etcd
mkdir -p "$cache"
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-buildvcs=false

build() { # name, module dir, package
  local name=$1 dir=$2 pkg=$3
  [ -x "$cache/$name" ] && return 0
  echo "testenv: building $name ($pkg); a cold build takes minutes on 2 cores" >&2
  local start=$SECONDS
  (cd "$here/go/$dir" && go mod download >&2 && go build -trimpath -ldflags='-s -w' -o "$cache/$name.tmp" "$pkg" >&2)
  mv "$cache/$name.tmp" "$cache/$name"
  echo "testenv: built $name in $((SECONDS - start))s" >&2
}

build etcd etcd go.etcd.io/etcd/server/v3
build kube-apiserver apiserver k8s.io/kubernetes/cmd/kube-apiserver
echo "$cache"
