// One CronJob-style run in its own process: the config's repo directory starts empty (a fresh pod's volume), the
// run fetches the remote head, syncs and pushes. Reports its time (without process start-up), how it split, peak
// RSS, and the repository's size on disk afterwards. The git token comes from KUBETRAIL_GIT_TOKEN.
import '../src/runtime/lean-client-node.ts';
import { execFileSync } from 'node:child_process';

const { loadConfig } = await import('../src/config/load.ts');
const { runSync } = await import('../src/sync/run.ts');
const { cpuMs } = await import('./cpu.ts');

const config = loadConfig({ config: process.argv[2] });
const started = performance.now();
const cpu = process.cpuUsage();
const mainCpu = process.threadCpuUsage();
// KUBETRAIL_BENCH_NO_STATE=1: the run ignores the remote's render state (what every run paid before it existed).
const run = await runSync(config, { push: true, partialClone: true, allowMassDelete: true, remoteState: !process.env.KUBETRAIL_BENCH_NO_STATE });
const ms = performance.now() - started;
const [r] = run.results;
const repoBytes = Number(execFileSync('du', ['-sb', config.repo], { encoding: 'utf8' }).split('\t')[0]);
console.log(JSON.stringify({
  ms, ...cpuMs(cpu, mainCpu), maxRssMB: process.resourceUsage().maxRSS / 1024, timings: run.timings, status: r.status,
  commit: r.commit ?? null, pushed: run.push?.upToDate === false, pushError: run.pushError, added: r.added, changed: r.changed,
  deleted: r.deleted, repoBytes,
}));
