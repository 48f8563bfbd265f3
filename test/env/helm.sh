#!/usr/bin/env bash
# Runs the cached Helm CLI with ARGS (bash test/env/helm.sh template config/helm/kubetrail), building it on first use.
set -euo pipefail
exec "$(bash "$(dirname "$0")/build-helm.sh")/helm" "$@"
