// node --expose-gc bench/push-cycles.ts [--cycles 200] [--changed 100] [--every 50] [--no-maintenance]
// A daemon's push loop against a real smart-HTTP remote (git http-backend) while another writer pushes in between:
// every cycle commits one change, loses the push race, fetches the remote head (a pack, often with deltas),
// replays, pushes again and does a run's housekeeping (loose objects packed, packs merged; --no-maintenance: none).
// Prints RSS (anonymous and file-backed), heap, external memory and packs every few cycles: they should stay flat.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startGitServer } from '../test/env/git-server.ts';
import { Repo } from '../src/store/repo.ts';
import { pushWithRetry } from '../src/store/remote.ts';
import { maintainRepository } from '../src/store/maintenance.ts';
import { commitClusterTree } from '../src/sync/sync.ts';

const { values } = parseArgs({ options: { cycles: { type: 'string', default: '200' }, changed: { type: 'string', default: '100' }, every: { type: 'string', default: '50' },
  'no-maintenance': { type: 'boolean', default: false } } });
const cycles = Number(values.cycles);
const changedPerCycle = Number(values.changed); // files the other writer changes between two of our pushes
const work = mkdtempSync(join(tmpdir(), 'kt-push-cycles-'));
const token = 'bench-token';
const server = await startGitServer({ root: join(work, 'remotes'), token });
server.createBareRepo('fleet.git');
const url = server.repoUrl('fleet.git');
const authed = url.replace('http://', `http://x:${token}@`);
const git = (dir: string, args: string[]) => execFileSync('git', ['-C', dir, ...args], { encoding: 'utf8' });

// The other writer: a clone with 300 files of another cluster, a few of which change each cycle.
const other = join(work, 'other');
git(work, ['clone', '-q', authed, other]);
git(other, ['config', 'user.name', 'other']);
git(other, ['config', 'user.email', 'o@x']);
const otherFile = (i: number, v: number) => {
  const file = join(other, 'clusters', 'other', 'core.v1.ConfigMap', 'ns', `cm-${i}.yaml`);
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(file, `${Array.from({ length: 60 }, (_, l) => `key${l}: ${l === v % 60 ? `changed-${v}` : `value-${l}`}`).join('\n')}\n`);
};
for (let i = 0; i < 300; i++) otherFile(i, 0);
git(other, ['add', '-A']);
git(other, ['commit', '-q', '-m', 'other: start\n\nKubetrail-Cluster: other']);
git(other, ['push', '-q', 'origin', 'HEAD:main']);

const repo = await Repo.open(join(work, 'ours'));
const target = { url, branch: 'main', username: 'x', token };
const author = { name: 'kubetrail', email: 'k@x' };
let files = new Map<string, string>();
let tree: string | undefined;
const mb = (n: number) => `${(n / 1048576).toFixed(1)} MB`;
const samples: Record<number, { rss: number; heap: number; external: number; arrayBuffers: number; packs: number; packBytes: number }> = {};
const every = Number(values.every);
const packDir = join(repo.gitdir, 'objects', 'pack');
const started = Date.now();
// Anonymous memory (malloc, V8) apart from file-backed pages (the node binary, libraries) in the RSS.
const rssKinds = () => readFileSync('/proc/self/status', 'utf8').split('\n').filter((l) => /^Rss(Anon|File)/.test(l)).map((l) => l.replace(/\s+/g, ' ')).join(' ');
for (let cycle = 1; cycle <= cycles; cycle++) {
  for (let k = 0; k < changedPerCycle; k++) otherFile((cycle * 7 + k * 3) % 300, cycle);
  git(other, ['add', '-A']);
  git(other, ['commit', '-q', '-m', `other: ${cycle}\n\nKubetrail-Cluster: other`]);
  git(other, ['pull', '-q', '--rebase', 'origin', 'main']);
  git(other, ['push', '-q', 'origin', 'HEAD:main']);

  const next = new Map(files);
  const path = `core.v1.ConfigMap/ns/state-${cycle % 50}.yaml`;
  next.set(path, await repo.writer.write('blob', Buffer.from(`cycle: ${cycle}\n${'x: y\n'.repeat(100)}`)));
  const changed = files.has(path) ? { added: [], changed: [path] } : { added: [path], changed: [] };
  await commitClusterTree(repo, 'ours', next, {
    message: `ours: ${cycle}\n\nKubetrail-Cluster: ours\n`, author, time: new Date(),
    previous: { files, tree, changed: [...changed.added, ...changed.changed] },
  });
  files = next;
  const head = await repo.head();
  tree = await repo.entryAt((await repo.readCommit(head!)).tree, 'clusters/ours');
  const res = await pushWithRetry(repo, target);
  if (res.upToDate) throw new Error(`cycle ${cycle}: nothing pushed`);
  // The housekeeping a run does last, under its lock (src/sync/run.ts).
  if (!values['no-maintenance'] && maintainRepository(repo.gitdir).looseObjectsPacked > 0) repo.writer.refresh();
  // the branch moved under us (replay): the subtree we build on is the one now at HEAD
  tree = await repo.entryAt((await repo.readCommit((await repo.head())!)).tree, 'clusters/ours');
  if (cycle === 20 || cycle === cycles || cycle % every === 0) {
    globalThis.gc?.();
    const m = process.memoryUsage();
    const packs = readdirSync(packDir).filter((n) => n.endsWith('.pack'));
    const packBytes = packs.reduce((sum, n) => sum + statSync(join(packDir, n)).size, 0);
    samples[cycle] = { rss: m.rss, heap: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers, packs: packs.length, packBytes };
    process.stderr.write(`cycle ${cycle}: rss ${mb(m.rss)} heap ${mb(m.heapUsed)} external ${mb(m.external)} arrayBuffers ${mb(m.arrayBuffers)} ` +
      `${rssKinds()} packs ${packs.length} (${mb(packBytes)}) (replayed so far: ${res.replayed}) ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
  }
}
const verify = join(work, 'verify');
git(work, ['clone', '-q', authed, verify]);
await server.close();
const fsck = git(verify, ['fsck', '--strict', '--no-dangling']);
const first = samples[20];
const last = samples[cycles];
console.log(JSON.stringify({ cycles, rss20: mb(first.rss), rssEnd: mb(last.rss), heap20: mb(first.heap), heapEnd: mb(last.heap),
  external20: mb(first.external), externalEnd: mb(last.external), arrayBuffers20: mb(first.arrayBuffers), arrayBuffersEnd: mb(last.arrayBuffers),
  packs20: first.packs, packsEnd: last.packs, packBytesEnd: mb(last.packBytes),
  commits: Number(git(verify, ['rev-list', '--count', 'HEAD'])), fsck: fsck === '' ? 'clean' : fsck }));
