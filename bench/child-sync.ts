// One kubetrail sync in its own process; reports its own time (without process start-up) and peak RSS.
// Set up as the kubetrail executable is (src/cli.ts): client-node loads lean, so the rest is imported after.
import '../src/runtime/lean-client-node.ts';

const { loadConfig } = await import('../src/config/load.ts');
const { syncClusters } = await import('../src/sync/run.ts');
const { cpuMs } = await import('./cpu.ts');

const config = loadConfig({ config: process.argv[2] });
const started = performance.now();
const cpu = process.cpuUsage();
const mainCpu = process.threadCpuUsage();
const [r] = await syncClusters(config, { allowMassDelete: true });
const ms = performance.now() - started;
console.log(JSON.stringify({
  ms, ...cpuMs(cpu, mainCpu), maxRssMB: process.resourceUsage().maxRSS / 1024, status: r.status, commit: r.commit ?? null,
  added: r.added, changed: r.changed, deleted: r.deleted, unchanged: r.unchanged, blobsWritten: r.blobsWritten, error: r.error,
}));
