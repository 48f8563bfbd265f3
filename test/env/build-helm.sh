#!/usr/bin/env bash
# Builds the Helm CLI (lints and renders config/helm/kubetrail in the e2e tests) from Go modules, pinned in
# test/env/go/helm/go.mod, into a cache outside the repo. Prints the cache directory on stdout; progress on stderr.
# A warm cache returns at once. The binary is written beside and renamed into place, so a build that was cut short
# is never used; a lock keeps two test workers from building it at the same time.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
version=$(awk '/^require helm.sh\/helm\/v4/ {print $3}' "$here/go/helm/go.mod")
cache=${KUBETRAIL_TESTENV_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kubetrail-testenv}/helm-$version
mkdir -p "$cache"
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-buildvcs=false
if [ ! -x "$cache/helm" ]; then
  exec 9>"$cache/.lock"
  flock 9
  if [ ! -x "$cache/helm" ]; then # another build may have finished while this one waited for the lock
    echo "testenv: building helm $version; a cold build takes minutes on 2 cores" >&2
    start=$SECONDS
    # `helm version` reports what Helm's own release build stamps, not the v4.3 default of an unstamped build.
    (cd "$here/go/helm" && go mod download >&2 &&
      nice -n 19 go build -trimpath -ldflags="-s -w -X helm.sh/helm/v4/internal/version.version=$version \
        -X helm.sh/helm/v4/internal/version.gitTreeState=clean" -o "$cache/helm.tmp" helm.sh/helm/v4/cmd/helm >&2)
    mv "$cache/helm.tmp" "$cache/helm"
    echo "testenv: built helm in $((SECONDS - start))s" >&2
  fi
fi
echo "$cache"
