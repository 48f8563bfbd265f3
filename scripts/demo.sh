#!/usr/bin/env bash
# npm run demo: the product working in one command on a machine with no cluster.
# Starts the project's own test API server, applies sample manifests, syncs into ./demo-repo,
# changes one object, syncs again, and shows what git recorded.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$(bash scripts/ensure.sh):$PATH"
env_dir=$(mktemp -d)
trap 'bash test/env/down.sh "$env_dir"; rm -rf "$env_dir"' EXIT
bash test/env/up.sh "$env_dir"
export KUBECONFIG=$env_dir/kubeconfig
rm -rf demo-repo
kubectl apply -f examples/demo.yaml
echo; echo "== kubetrail sync (first run)"
node src/cli.ts sync --repo demo-repo --cluster-id demo
echo; echo "== kubetrail sync (nothing changed: no commit)"
node src/cli.ts sync --repo demo-repo --cluster-id demo
kubectl -n shop set image deployment/checkout checkout=shop/checkout:1.5.0
echo; echo "== kubetrail sync (after: kubectl set image deployment/checkout checkout=shop/checkout:1.5.0)"
node src/cli.ts sync --repo demo-repo --cluster-id demo
echo; echo "== git log --shortstat"
git -C demo-repo log --shortstat --format='%h %s'
echo; echo "== git show --stat HEAD"
git -C demo-repo show --stat=120 --format='%h %s%n%n%b' HEAD
echo; echo "== git log -p -1 -- clusters/demo/apps.v1.Deployment"
git -C demo-repo log -p -1 --format='%h %s' -- clusters/demo/apps.v1.Deployment
