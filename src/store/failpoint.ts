// Fault injection for the crash tests: with KUBETRAIL_FAILPOINT=<step> (or <step>@<n>: the n-th time) the process
// kills itself with SIGKILL when it reaches that store step, exactly as `kill -9` at that moment would
// (test/e2e/cli/durability.test.ts). Unset, as in production, each call is one comparison.
const [armed, nth] = (process.env.KUBETRAIL_FAILPOINT ?? '').split('@');
let reached = 0;

export function failpoint(step: string): void {
  if (step !== armed || ++reached < Number(nth ?? 1)) return;
  process.kill(process.pid, 'SIGKILL');
}
