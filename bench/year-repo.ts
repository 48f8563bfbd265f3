// The repository's side of issue 21's bench: its size against `git gc --aggressive` of the same history, native
// `git log` with and without kubetrail's commit-graph, and what a few syncs on top leave (packs, loose objects).
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { updateIndexFile } from '../src/history/index-file.ts';
import { GitReader } from '../src/history/reader.ts';
import { updateCommitGraph } from '../src/store/commit-graph.ts';
import { ObjectDatabase } from '../src/store/object-db.ts';
import { Repo } from '../src/store/repo.ts';
import { commitMessage } from '../src/sync/result.ts';
import { housekeeping } from '../src/sync/run.ts';
import { commitClusterTree } from '../src/sync/sync.ts';
import { percentile } from './percentile.ts';
import type { YearManifest } from './year-history.ts';

const env = { ...process.env, MALLOC_TOP_PAD_: String(256 << 20) };
const git = (gitdir: string, args: string[]) => execFileSync('git', ['--git-dir', gitdir, ...args], { env, maxBuffer: 1 << 30 });
const MB = (bytes: number) => Math.round(bytes / 1e4) / 100;

export interface RepoSize { packs: number; packMB: number; idxMB: number; otherPackMB: number; infoMB: number; loose: number; looseMB: number; totalMB: number }

/** Apparent sizes under objects/: packs, their indexes, the rest of objects/pack, objects/info (commit-graphs), loose objects. */
export function repoSize(gitdir: string): RepoSize {
  const files = (dir: string): { name: string; size: number }[] => !existsSync(dir) ? [] : readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile()).map((e) => ({ name: e.name, size: statSync(join(e.parentPath, e.name)).size }));
  const objects = join(gitdir, 'objects');
  const pack = files(join(objects, 'pack'));
  const sum = (xs: { size: number }[]) => xs.reduce((s, x) => s + x.size, 0);
  const loose = readdirSync(objects).filter((d) => /^[0-9a-f]{2}$/.test(d)).flatMap((d) => files(join(objects, d)));
  const packs = pack.filter((f) => f.name.endsWith('.pack'));
  const idx = pack.filter((f) => f.name.endsWith('.idx'));
  const other = pack.filter((f) => !f.name.endsWith('.pack') && !f.name.endsWith('.idx'));
  const info = files(join(objects, 'info'));
  return {
    packs: packs.length, packMB: MB(sum(packs)), idxMB: MB(sum(idx)), otherPackMB: MB(sum(other)), infoMB: MB(sum(info)),
    loose: loose.length, looseMB: MB(sum(loose)), totalMB: MB(sum(pack) + sum(info) + sum(loose)),
  };
}

/** The size `git gc --aggressive` makes of a copy of the history (slow: cached next to the repository). */
export function gcAggressiveSize(gitdir: string, cacheDir: string, log: (s: string) => void, o: { cachedOnly?: boolean } = {}): (RepoSize & { ms: number }) | undefined {
  const cache = join(cacheDir, 'gc-aggressive.json');
  if (existsSync(cache)) return JSON.parse(readFileSync(cache, 'utf8'));
  if (o.cachedOnly) return undefined;
  const copy = join(cacheDir, 'gc-aggressive.git');
  rmSync(copy, { recursive: true, force: true });
  // Hard links: gc writes new files and unlinks its own copy's; a clone would itself repack (with deltas) first.
  execFileSync('cp', ['-al', gitdir, copy]);
  rmSync(join(copy, 'objects/info/commit-graphs'), { recursive: true, force: true });
  rmSync(join(copy, 'kubetrail'), { recursive: true, force: true });
  const started = performance.now();
  execFileSync('nice', ['-n', '10', 'git', '--git-dir', copy, 'gc', '-q', '--aggressive', '--prune=now'], { env });
  const result = { ...repoSize(copy), ms: Math.round(performance.now() - started) };
  log(`git gc --aggressive: ${result.ms} ms, ${result.totalMB} MB`);
  writeFileSync(cache, JSON.stringify(result));
  rmSync(copy, { recursive: true, force: true });
  return result;
}

/** kubetrail's commit-graph of the whole history (kept in the cached repository once written). */
export async function ensureCommitGraph(gitdir: string): Promise<number | undefined> {
  if (existsSync(join(gitdir, 'objects/info/commit-graphs/commit-graph-chain'))) return undefined;
  const db = new ObjectDatabase(gitdir);
  const started = performance.now();
  await updateCommitGraph(gitdir, (oid) => db.read(oid), { maxNewCommits: Infinity });
  return Math.round(performance.now() - started);
}

/**
 * The history index a sync's housekeeping keeps (src/history/index-file.ts), built whole once for a generated
 * history (no sync made it); ms, or undefined when it was there.
 */
export async function ensureHistoryIndex(gitdir: string): Promise<number | undefined> {
  const repo = await Repo.open(gitdir, { bare: true });
  const started = performance.now();
  const { added } = await updateIndexFile(repo, new GitReader(repo, { small: true }), { maxNewCommits: Infinity });
  return added ? Math.round(performance.now() - started) : undefined;
}

export interface NativeLog { query: string; lines: number; withoutMs: number; withMs: number; identical: boolean }

/** Path-limited `git log` with core.commitGraph off and on (median of `runs`), and whether both print the same. */
export function nativeLog(gitdir: string, m: YearManifest, runs: number): NativeLog[] {
  const cold = m.cold.find((o) => o.cluster === 'prod-us') ?? m.cold[0];
  const queries = [
    ['log', '--oneline', '--', m.hot[0].path],
    ['log', '--oneline', '--', cold.path],
    ['log', '--oneline', '-n', '10', '--', cold.path],
    ['log', '--oneline', '--', 'clusters/prod-us/apps.v1.Deployment'],
  ];
  return queries.map((q) => {
    const time = (graph: boolean) => {
      const times: number[] = [];
      let out = '';
      for (let i = 0; i < runs; i++) {
        const s = performance.now();
        out = git(gitdir, ['-c', `core.commitGraph=${graph}`, ...q]).toString();
        times.push(performance.now() - s);
      }
      return { ms: Math.round(percentile(times, 50)), out };
    };
    const without = time(false);
    const withGraph = time(true);
    return { query: `git ${q.join(' ')}`, lines: without.out.split('\n').length - 1, withoutMs: without.ms, withMs: withGraph.ms, identical: without.out === withGraph.out };
  });
}

export interface AfterSyncs { syncs: number; commitMs: number[]; housekeepingMs: number[]; size: RepoSize; graphVerify: string; fsck: string }

/**
 * `syncs` commits written on a hard-linked copy as a sync writes them (its object batch, commitClusterTree, the
 * message of commitMessage), each followed by the run's housekeeping (loose objects packed, packs merged, the
 * commit-graph updated). kubetrail replaces files by rename, so the cached repository is not changed.
 */
export async function syncsOnTop(gitdir: string, cacheDir: string, syncs: number, changedPerSync: number): Promise<AfterSyncs> {
  const copy = join(cacheDir, 'after-syncs.git');
  rmSync(copy, { recursive: true, force: true });
  execFileSync('cp', ['-al', gitdir, copy]);
  try {
    const repo = await Repo.open(copy, { bare: true });
    const commitMs: number[] = [];
    const housekeepingMs: number[] = [];
    for (let s = 0; s < syncs; s++) {
      const head = (await repo.head())!;
      const cluster = 'prod-us';
      const tree = await repo.entryAt((await repo.readCommit(head)).tree, `clusters/${cluster}`);
      const before = await repo.listFiles(tree);
      const after = new Map(before);
      const paths = [...before.keys()].filter((p) => p.startsWith('core.v1.ConfigMap/')).slice(s * changedPerSync, (s + 1) * changedPerSync);
      const started = performance.now();
      const batch = repo.objectBatch();
      for (const p of paths) after.set(p, await batch.write('blob', Buffer.from(`apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${p}\ndata:\n  sync: "${s}"\n`)));
      await commitClusterTree(repo, cluster, after, {
        objects: batch, previous: { files: before, tree, changed: paths },
        message: commitMessage(cluster, { added: [], changed: paths, deleted: [] }, []),
        author: { name: 'kubetrail', email: 'kubetrail@localhost' }, time: new Date(),
      });
      commitMs.push(Math.round(performance.now() - started));
      const h = performance.now();
      await housekeeping(repo, async () => {});
      housekeepingMs.push(Math.round(performance.now() - h));
    }
    const graphVerify = execFileSync('git', ['--git-dir', copy, 'commit-graph', 'verify'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim() || 'ok';
    // A full fsck reads every object (minutes at 100k commits): reachability only above 10k commits.
    const full = Number(git(copy, ['rev-list', '--count', 'main']).toString()) <= 10_000;
    const f = performance.now();
    const out = execFileSync('git', ['--git-dir', copy, 'fsck', '--no-progress', ...(full ? ['--full'] : ['--connectivity-only'])], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 30 }).trim();
    const fsck = `${full ? '--full' : '--connectivity-only'} ${out || 'clean'} (${Math.round(performance.now() - f)} ms)`;
    return { syncs, commitMs, housekeepingMs, size: repoSize(copy), graphVerify, fsck };
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }
}

// Alone: `nice -n 10 node bench/year-repo.ts gc <commits>` caches `git gc --aggressive`'s size for a made history.
if (import.meta.main) {
  const commits = Number(process.argv[3] ?? 100_000);
  const { yearDir } = await import('./year-history.ts');
  if (process.argv[2] !== 'gc') throw new Error('usage: node bench/year-repo.ts gc <commits>');
  console.log(gcAggressiveSize(join(yearDir(commits), 'repo.git'), yearDir(commits), (s) => console.error(s)));
}
