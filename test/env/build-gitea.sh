#!/usr/bin/env bash
# Builds Gitea (a real forge: git smart HTTP + a REST API with pull requests) from Go modules, pinned in
# test/env/go/gitea/go.mod, into a cache outside the repo. Prints the cache directory on stdout; progress on stderr.
# Its SQLite driver needs cgo. A warm cache returns at once.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
version=$(awk '/^require code.gitea.io\/gitea/ {print $3}' "$here/go/gitea/go.mod")
cache=${KUBETRAIL_TESTENV_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kubetrail-testenv}/gitea-$version
mkdir -p "$cache"
export GOTOOLCHAIN=local CGO_ENABLED=1 GOFLAGS=-buildvcs=false
if [ ! -x "$cache/gitea" ]; then
  echo "testenv: building gitea $version (cgo, sqlite); a cold build takes about 10 minutes on 2 cores" >&2
  start=$SECONDS
  (cd "$here/go/gitea" && go mod download >&2 &&
    go build -trimpath -tags 'sqlite sqlite_unlock_notify' -ldflags="-s -w -X main.Version=${version#v}" \
      -o "$cache/gitea.tmp" code.gitea.io/gitea >&2)
  mv "$cache/gitea.tmp" "$cache/gitea"
  echo "testenv: built gitea in $((SECONDS - start))s" >&2
fi
# Without bindata Gitea reads its templates and locale files from its source tree (the module cache).
[ -f "$cache/static-root" ] || (cd "$here/go/gitea" && go list -m -f '{{.Dir}}' code.gitea.io/gitea) > "$cache/static-root"
echo "$cache"
