#!/usr/bin/env bash
# The test command (`npm test`): typecheck, unit + e2e under Node, then every CLI e2e test with the CLI under Deno.
# Ends with one line "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH="$(bash scripts/ensure.sh):$PATH"
out=$(mktemp -d)
status=0
echo "== typecheck (tsc --noEmit)"
npx tsc --noEmit || status=1
echo "== vitest under Node $(node --version)"
npx vitest run --reporter=default --reporter=json --outputFile.json="$out/node.json" "$@" || status=1
if [ $# -eq 0 ]; then
  echo "== CLI e2e tests with the CLI under $(deno --version | head -1)"
  KUBETRAIL_TEST_RUNTIME=deno npx vitest run --project e2e --reporter=default --reporter=json \
    --outputFile.json="$out/deno.json" test/e2e/cli || status=1
fi
node -e '
  const fs = require("node:fs"); let passed = 0, failed = 0;
  for (const f of fs.readdirSync(process.argv[1])) {
    const r = JSON.parse(fs.readFileSync(process.argv[1] + "/" + f, "utf8"));
    passed += r.numPassedTests; failed += r.numFailedTests + (r.success ? 0 : r.numFailedTestSuites);
  }
  console.log(`${passed} passed, ${failed} failed`);
' "$out"
rm -rf "$out"
exit $status
