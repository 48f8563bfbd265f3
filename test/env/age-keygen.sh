#!/usr/bin/env bash
# Runs the cached age-keygen with ARGS (bash test/env/age-keygen.sh -o key.txt), building it on first use.
set -euo pipefail
exec "$(bash "$(dirname "$0")/build-sops.sh")/age-keygen" "$@"
