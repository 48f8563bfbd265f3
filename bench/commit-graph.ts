// Native `git log -- <path>` on a long history with and without the commit-graph kubetrail keeps, and what keeping
// it costs a sync. Usage: node bench/commit-graph.ts [commits=100000] [objects=10000]. The fast-imported history
// is cached in bench/work/commit-graph-<commits>/ (repacked without deltas, as kubetrail's own packs are).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { updateCommitGraph } from '../src/store/commit-graph.ts';
import { ObjectDatabase } from '../src/store/object-db.ts';
import { Repo } from '../src/store/repo.ts';
import { encodeTree, parseTreeRaw } from '../src/store/codec.ts';
import { fastImportHistory, objectPath } from '../test/helpers/fast-import-history.ts';

const commits = Number(process.argv[2] ?? 100_000);
const objects = Number(process.argv[3] ?? 10_000);
const gitdir = join(import.meta.dirname, 'work', `commit-graph-${commits}`, 'repo.git');
const env = { ...process.env, MALLOC_TOP_PAD_: String(256 << 20) };
const git = (args: string[]) => execFileSync('git', ['--git-dir', gitdir, ...args], { env, maxBuffer: 1 << 30 });
const ms = (t: number) => Math.round(performance.now() - t);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

if (!existsSync(join(gitdir, 'ready'))) {
  rmSync(gitdir, { recursive: true, force: true });
  mkdirSync(gitdir, { recursive: true });
  execFileSync('git', ['init', '-q', '--bare', '-b', 'main', gitdir]);
  let t = performance.now();
  await fastImportHistory(gitdir, { commits, objects, seed: 21 });
  console.log(`fast-import of ${commits} commits: ${ms(t)} ms`);
  t = performance.now();
  git(['-c', 'pack.window=0', 'repack', '-a', '-d', '-f', '-q']);
  console.log(`repack without deltas: ${ms(t)} ms`);
  writeFileSync(join(gitdir, 'ready'), '');
}
const db = () => new ObjectDatabase(gitdir);
const update = (o?: { maxNewCommits?: number }) => { const d = db(); return updateCommitGraph(gitdir, (oid) => d.read(oid), o); };

rmSync(join(gitdir, 'objects/info/commit-graphs'), { recursive: true, force: true });
rmSync(join(gitdir, 'objects/info/commit-graph'), { force: true });
let t = performance.now();
const built = await update({ maxNewCommits: Infinity });
console.log(`kubetrail graph of the whole history: ${ms(t)} ms`, built);

const queries = [
  ['log', '--oneline', '--', objectPath(0)],
  ['log', '--oneline', '--', objectPath(4321)],
  ['log', '--oneline', '--', 'clusters/prod-us/apps.v1.Deployment'],
  ['log', '-p', '--', 'clusters/prod-us/apps.v1.Deployment'],
  ['log', '--oneline', '-n', '10', '--', objectPath(4321)],
];
console.log('| query | without graph | with kubetrail\'s graph | lines |');
console.log('|---|---|---|---|');
for (const q of queries) {
  const time = (graph: boolean) => median(Array.from({ length: commits >= 50_000 ? 1 : 3 }, () => { const s = performance.now(); git(['-c', `core.commitGraph=${graph}`, ...q]); return ms(s); }));
  const lines = git(q).toString().split('\n').length - 1;
  console.log(`| git ${q.join(' ')} | ${time(false)} ms | ${time(true)} ms | ${lines} |`);
}

// What a sync adds: one commit of three changed objects written as a sync writes it (loose objects, the branch
// moved), then the update the run's housekeeping does with the run's object database.
const repo = await Repo.open(gitdir, { bare: true });
async function syncLikeCommit(i: number): Promise<void> {
  const head = (await repo.head())!;
  let root = (await repo.readCommit(head)).tree;
  for (const n of [0, 7 + i, 300 + 13 * i]) {
    const path = objectPath(n);
    const dir = path.slice(0, path.lastIndexOf('/'));
    const name = path.slice(dir.length + 1);
    const blob = await repo.writer.write('blob', Buffer.from(`kind: X\nrevision: sync-${i}\n`));
    const dirTree = await repo.entryAt(root, dir);
    const entries = dirTree ? parseTreeRaw(await repo.objects.read(dirTree)).filter((e) => e.name.toString() !== name) : [];
    const subtree = await repo.writer.write('tree', encodeTree([...entries, { mode: '100644', name, oid: blob }]));
    root = await repo.replaceSubtree(root, dir, subtree);
  }
  const who = { name: 'bench', email: 'bench@localhost', timestamp: 1_900_000_000 + i * 300 };
  const commit = await repo.writeCommit({ tree: root, parents: [head], author: who, message: `sync ${i}\n` });
  await repo.updateBranch(head, commit);
}
const perSync: number[] = [];
for (let i = 0; i < 15; i++) {
  await syncLikeCommit(i);
  const s = performance.now();
  const r = await updateCommitGraph(gitdir, (oid) => repo.objects.read(oid));
  perSync.push(performance.now() - s);
  if (i === 14) console.log('last update', r);
}
const noChange = performance.now();
await updateCommitGraph(gitdir, (oid) => repo.objects.read(oid));
console.log(`per sync (1 new commit): median ${median(perSync).toFixed(1)} ms, max ${Math.max(...perSync).toFixed(1)} ms; nothing new: ${(performance.now() - noChange).toFixed(1)} ms`);
