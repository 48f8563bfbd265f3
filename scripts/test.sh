#!/usr/bin/env bash
# The test command (`npm test`): typecheck, unit + e2e under Node, then every CLI e2e test with the CLI under Deno.
# The test apiserver, forge, Helm and SOPS are built (or their caches verified) first, so no test runs beside a compile on the same cores.
# Ends with one line "N passed, N failed"; suites that failed to load or run are counted on a line of their own.
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH="$(bash scripts/ensure.sh):$PATH"
out=$(mktemp -d)
status=0
echo "== test binaries (built on first use, then cached)"
{ bash test/env/build.sh && bash test/env/build-gitea.sh && bash test/env/build-helm.sh && bash test/env/build-sops.sh; } >/dev/null || { echo "test binaries could not be built"; echo "0 passed, 1 failed"; exit 1; }
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
  const fs = require("node:fs"); let passed = 0, failed = 0, suites = [];
  for (const f of fs.readdirSync(process.argv[1])) {
    const r = JSON.parse(fs.readFileSync(process.argv[1] + "/" + f, "utf8"));
    passed += r.numPassedTests; failed += r.numFailedTests;
    // A suite that failed outside any test (a load error, a failing hook) has no failed test to count.
    for (const s of r.testResults) if (s.status === "failed" && !s.assertionResults.some((t) => t.status === "failed")) suites.push(s.name);
  }
  if (suites.length) console.log(`${suites.length} suite(s) failed outside their tests: ${suites.join(", ")}`);
  console.log(`${passed} passed, ${failed + suites.length} failed`);
' "$out"
rm -rf "$out"
exit $status
