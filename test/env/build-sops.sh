#!/usr/bin/env bash
# Builds the SOPS CLI and age-keygen (the e2e tests decrypt kubetrail's sops-mode Secrets with the real tools) from Go
# modules, pinned in test/env/go/sops/go.mod, into a cache outside the repo. Prints the cache directory on stdout;
# progress on stderr. A warm cache returns at once; a lock keeps two test workers from building at the same time, and
# each binary is renamed into place only when complete.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
version=$(awk '$1 == "github.com/getsops/sops/v3" {print $2}' "$here/go/sops/go.mod")
cache=${KUBETRAIL_TESTENV_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kubetrail-testenv}/sops-$version
mkdir -p "$cache"
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-buildvcs=false
if [ ! -x "$cache/sops" ] || [ ! -x "$cache/age-keygen" ]; then
  exec 9>"$cache/.lock"
  flock 9
  if [ ! -x "$cache/sops" ] || [ ! -x "$cache/age-keygen" ]; then # another build may have finished meanwhile
    echo "testenv: building sops $version and age-keygen; a cold build takes minutes on 2 cores" >&2
    start=$SECONDS
    (cd "$here/go/sops" && go mod download >&2 &&
      nice -n 19 go build -trimpath -ldflags="-s -w" -o "$cache/age-keygen.tmp" filippo.io/age/cmd/age-keygen >&2 &&
      nice -n 19 go build -trimpath -ldflags="-s -w" -o "$cache/sops.tmp" github.com/getsops/sops/v3/cmd/sops >&2)
    mv "$cache/age-keygen.tmp" "$cache/age-keygen"
    mv "$cache/sops.tmp" "$cache/sops"
    echo "testenv: built sops and age-keygen in $((SECONDS - start))s" >&2
  fi
fi
echo "$cache"
