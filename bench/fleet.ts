// node bench/fleet.ts [--clusters 32] [--rounds 10] [--interval 60] [--jitter 0] [--kubeconfig FILE]
// A fleet pushing to one branch (issue 18 §3): every cluster's CronJob-style run (empty volume, fetch, sync, push) on
// the same tick, every interval, against the suite's smart-HTTP remote. Starts its own apiserver unless given a
// kubeconfig. Prints one JSON line: pushes landed / attempted, retries per push, tick → landed, wall time per round.
import { execFileSync, execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startGitServer } from '../test/env/git-server.ts';
import { readEnvFile } from '../test/env/global-setup.ts';
import { inspectRemote, prepareFleet, runFleet, summarize, type FleetOptions } from '../test/helpers/fleet.ts';
import { resolveAccess } from '../src/kube/access.ts';
import { createKubeClient } from '../src/kube/client.ts';
import { NODE_FLAGS, shippedEnv } from './shipped.ts';

const { values } = parseArgs({ options: {
  clusters: { type: 'string', default: '32' }, rounds: { type: 'string', default: '10' }, interval: { type: 'string', default: '60' },
  jitter: { type: 'string', default: '0' }, kubeconfig: { type: 'string' },
} });
const root = new URL('..', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'kt-fleet-'));
const log = (s: string) => process.stderr.write(`fleet: ${s}\n`);
let kubeconfig = values.kubeconfig;
if (!kubeconfig) {
  execFileSync('bash', [join(root, 'test/env/up.sh'), join(work, 'env')], { stdio: ['ignore', 'ignore', 'inherit'] });
  kubeconfig = readEnvFile(join(work, 'env/env')).KUBECONFIG;
}
const token = 'fleet-bench';
const server = await startGitServer({ root: join(work, 'remotes'), token });
server.createBareRepo('fleet.git');
// The shipped process (bench/shipped.ts).
const SHIPPED_ENV = shippedEnv();
const o: FleetOptions = {
  clusters: Number(values.clusters), rounds: Number(values.rounds), intervalMs: Number(values.interval) * 1000,
  startJitterSeconds: Number(values.jitter), remoteUrl: server.repoUrl('fleet.git'), token, kubeconfig, work, prefix: 'fleet-',
  client: createKubeClient('fleet', resolveAccess({ id: 'fleet', kubeconfig } as never, {})),
  runCli: (args, env) => new Promise((resolve) => execFile(process.execPath, [...NODE_FLAGS, join(root, 'src/cli.ts'), ...args],
    { env: { PATH: process.env.PATH, HOME: process.env.HOME, ...SHIPPED_ENV, ...env }, maxBuffer: 64 << 20 },
    (error, stdout, stderr) => resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }))),
};
await prepareFleet(o);
log(`${o.clusters} clusters × ${o.rounds} rounds, every ${values.interval} s, start jitter ${o.startJitterSeconds} s`);
const report = await runFleet(o);
const remote = inspectRemote(o, join(work, 'verify'));
await server.close();
if (!values.kubeconfig) execFileSync('bash', [join(root, 'test/env/down.sh'), join(work, 'env')]);
const expected = Array.from({ length: o.rounds }, (_, i) => String(i + 1));
const lostRounds = [...remote.rounds].reduce((n, [, rounds]) => n + expected.filter((r) => !rounds.includes(r)).length, 0);
for (const r of report.runs.filter((x) => x.code !== 0 && !x.skipped)) log(`${r.id} round ${r.round}: exit ${r.code}: ${r.stderr.trim()}`);
console.log(JSON.stringify({ ...summarize(o, report), lostRounds, linear: remote.linear, onlyOwnSubtree: remote.onlyOwnSubtree, fsck: remote.fsck === '' ? 'clean' : remote.fsck }));
