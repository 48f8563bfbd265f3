#!/usr/bin/env bash
# Runs the cached SOPS CLI with ARGS (bash test/env/sops.sh --decrypt FILE), building it on first use.
set -euo pipefail
exec "$(bash "$(dirname "$0")/build-sops.sh")/sops" "$@"
