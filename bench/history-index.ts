// What keeping the history index costs a sync, on the simulated years of bench/history-year.ts (run it first):
// sync-like commits (three objects changed, written as a sync writes them) on a copy of the repository, each
// followed by the index update a run's housekeeping does. Also the index built whole, and its file size.
// Usage: node bench/history-index.ts [--commits 1000,100000] [--syncs 20] [--keep-index (do not build it whole)]
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { indexFile, updateIndexFile } from '../src/history/index-file.ts';
import { GitReader } from '../src/history/reader.ts';
import { encodeTree, parseTreeRaw } from '../src/store/codec.ts';
import { Repo } from '../src/store/repo.ts';

const { values } = parseArgs({ options: { commits: { type: 'string', default: '1000,100000' }, syncs: { type: 'string', default: '20' }, 'keep-index': { type: 'boolean', default: false } } });
const work = join(import.meta.dirname, 'work');
const ms = (t: number) => performance.now() - t;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** A copy that shares the (read-only) packs and copies what a run rewrites in place: the index file. */
function copyRepository(from: string, to: string): void {
  rmSync(to, { recursive: true, force: true });
  execFileSync('cp', ['-al', from, to]);
  const kept = join(to, 'kubetrail');
  for (const name of existsSync(kept) ? readdirSync(kept) : []) {
    rmSync(join(kept, name));
    copyFileSync(join(from, 'kubetrail', name), join(kept, name));
  }
}

async function syncLikeCommit(repo: Repo, paths: string[], i: number): Promise<void> {
  const head = (await repo.head())!;
  let root = (await repo.readCommit(head)).tree;
  for (const path of paths) {
    const dir = path.slice(0, path.lastIndexOf('/'));
    const name = path.slice(dir.length + 1);
    const blob = await repo.writer.write('blob', Buffer.from(`kind: X\nmetadata:\n  name: ${name}\nrevision: sync-${i}\n`));
    const dirTree = await repo.entryAt(root, dir);
    const entries = dirTree ? parseTreeRaw(await repo.objects.read(dirTree)).filter((e) => e.name.toString() !== name) : [];
    root = await repo.replaceSubtree(root, dir, await repo.writer.write('tree', encodeTree([...entries, { mode: '100644', name, oid: blob }])));
  }
  const who = { name: 'bench', email: 'bench@localhost', timestamp: 1_900_000_000 + i * 300 };
  await repo.updateBranch(head, await repo.writeCommit({ tree: root, parents: [head], author: who, message: `sync ${i}\n\nKubetrail-Cluster: prod-us\n` }));
}

console.log('| history | index built whole | index file | per sync: index update median / max | commit-graph update median |');
console.log('|---|---|---|---|---|');
for (const commits of values.commits.split(',').map(Number)) {
  const source = join(work, `year-${commits}`, 'repo.git');
  if (!existsSync(source)) throw new Error(`${source} is missing: run node bench/history-year.ts --commits ${commits} first`);
  const gitdir = join(work, `index-cost-${commits}.git`);
  copyRepository(source, gitdir);
  const repo = await Repo.open(gitdir, { bare: true });
  if (!values['keep-index']) rmSync(indexFile(gitdir), { force: true });
  let t = performance.now();
  await updateIndexFile(repo, new GitReader(repo, { small: true }), { maxNewCommits: Infinity });
  const whole = values['keep-index'] ? NaN : ms(t);
  const size = statSync(indexFile(gitdir)).size;
  const perSync: number[] = [];
  const graph: number[] = [];
  const { updateCommitGraph } = await import('../src/store/commit-graph.ts');
  await updateCommitGraph(gitdir, (oid) => repo.objects.read(oid), { maxNewCommits: Infinity });
  for (let i = 0; i < Number(values.syncs); i++) {
    await syncLikeCommit(repo, [`clusters/prod-us/apps.v1.Deployment/shop/checkout.yaml`, `clusters/prod-us/core.v1.ConfigMap/shop/bench-${i}.yaml`, `clusters/prod-eu/core.v1.Service/payments/bench-${i % 3}.yaml`], i);
    t = performance.now();
    await updateIndexFile(repo, new GitReader(repo, { small: true }));
    perSync.push(ms(t));
    t = performance.now();
    await updateCommitGraph(gitdir, (oid) => repo.objects.read(oid));
    graph.push(ms(t));
  }
  console.log(`| ${commits} commits | ${(whole / 1000).toFixed(1)} s | ${(size / 1e6).toFixed(1)} MB | ${median(perSync).toFixed(1)} / ${Math.max(...perSync).toFixed(1)} ms | ${median(graph).toFixed(1)} ms |`);
  rmSync(gitdir, { recursive: true, force: true });
}
