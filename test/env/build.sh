#!/usr/bin/env bash
# Builds kube-apiserver and etcd from Go modules (pinned in test/env/go/*/go.mod) into a cache outside the repo.
# Prints the cache directory on stdout; progress goes to stderr. A warm cache returns at once.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
k8s=$(awk '/^require k8s.io\/kubernetes/ {print $3}' "$here/go/apiserver/go.mod")
etcd=$(awk '/^require go.etcd.io\/etcd\/server\/v3/ {print $3}' "$here/go/etcd/go.mod")
# "stamped": kube-apiserver carries its real version (below); binaries of earlier builds in other dirs are not reused.
cache=${KUBETRAIL_TESTENV_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kubetrail-testenv}/k8s-$k8s-stamped-etcd-$etcd
mkdir -p "$cache"
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-buildvcs=false

# Without these, discovery and `kubectl version` report v0.0.0-master+$Format:%H$ (what kubernetes' own build stamps).
minor=${k8s#v1.}; minor=${minor%%.*}
k8s_version_flags=""
for v in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  k8s_version_flags+=" -X $v.gitVersion=$k8s -X $v.gitMajor=1 -X $v.gitMinor=$minor -X $v.gitTreeState=clean"
done

build() { # name, module dir, package[, extra ldflags]
  local name=$1 dir=$2 pkg=$3 flags=${4:-}
  [ -x "$cache/$name" ] && return 0
  echo "testenv: building $name ($pkg); a cold build takes minutes on 2 cores" >&2
  local start=$SECONDS
  (cd "$here/go/$dir" && go mod download >&2 && go build -trimpath -ldflags="-s -w$flags" -o "$cache/$name.tmp" "$pkg" >&2)
  mv "$cache/$name.tmp" "$cache/$name"
  echo "testenv: built $name in $((SECONDS - start))s" >&2
}

build etcd etcd go.etcd.io/etcd/server/v3
build kube-apiserver apiserver k8s.io/kubernetes/cmd/kube-apiserver "$k8s_version_flags"
echo "$cache"
