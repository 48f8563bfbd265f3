// Makes (once, then cached) issue 21's simulated year in bench/work/year-<commits>/repo.git with `git fast-import`:
// the objects and commits of year-objects.ts, messages written by the sync's own commitMessage(). Usage alone:
// node bench/year-history.ts [--commits 100000] [--objects 10000] (run it with `nice -n 10`: it takes minutes).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { commitMessage } from '../src/sync/result.ts';
import { fastImportData as data, startFastImport } from '../test/helpers/fast-import-history.ts';
import { attributionOf, CLUSTERS, HOT, objectYaml, pathOf, planYear, random, relPathOf, yearObject, type YearPlan } from './year-objects.ts';

export interface YearObjectRef { cluster: string; type: string; namespace: string; name: string; path: string; versions: number }
export interface YearManifest {
  commits: number; objects: number; seed: number; clusters: string[]; firstTime: number; lastTime: number;
  /** Objects that exist at the end: among the hot ones (hundreds of versions at 100k commits) and the cold ones (1-3 versions). */
  hot: YearObjectRef[]; cold: YearObjectRef[];
  generation: { fastImportMs: number; packs: 'fast-import --depth=0 (one pack, whole objects)' };
}

export const yearDir = (commits: number) => join(import.meta.dirname, 'work', `year-${commits}`);
const AUTHOR = 'kubetrail <kubetrail@localhost>'; // the config's default author, as a sync writes it

/** The repository of the simulated year (made when missing) and what the bench needs to know about it. */
export async function ensureYearHistory(commits: number, o: { objects?: number; seed?: number; log?: (s: string) => void } = {}):
  Promise<{ gitdir: string; manifest: YearManifest }> {
  const objects = o.objects ?? 10_000;
  const seed = o.seed ?? 21;
  const dir = yearDir(commits);
  const gitdir = join(dir, 'repo.git');
  const manifestFile = join(dir, 'manifest.json');
  if (existsSync(join(dir, 'ready'))) return { gitdir, manifest: JSON.parse(readFileSync(manifestFile, 'utf8')) };
  const log = o.log ?? ((s) => console.error(s));
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  execFileSync('git', ['init', '-q', '--bare', '-b', 'main', gitdir]);
  const started = performance.now();
  // --depth=0: no deltas, as kubetrail's own PackWriter writes (and merges) packs; objects in the order written, as
  // kubetrail's packs hold them. One pack instead of kubetrail's ≤ 16: the pack count is measured after real syncs.
  const fastImport = startFastImport(gitdir, ['--depth=0']);
  const plan: YearPlan = { versions: [], alive: [] };
  let firstTime = 0;
  let lastTime = 0;
  for (const commit of planYear({ commits, objects, seed }, plan)) {
    const c = commit.cluster;
    const cluster = CLUSTERS[c];
    const changes = { added: [] as string[], changed: [] as string[], deleted: [] as string[] };
    const ops: string[] = [];
    for (const ch of commit.changes) {
      const obj = yearObject(c, ch.index);
      const rel = relPathOf(obj);
      (ch.op === 'add' ? changes.added : ch.op === 'change' ? changes.changed : changes.deleted).push(rel);
      ops.push(ch.op === 'delete' ? `D ${pathOf(obj)}\n` : `M 100644 inline ${pathOf(obj)}\n${data(objectYaml(c, obj, ch.revision, ch.created, ch.generation))}`);
    }
    const message = commitMessage(cluster, changes, [], attributionOf(commit, [...changes.added, ...changes.changed, ...changes.deleted]));
    await fastImport.write(`commit refs/heads/main\nmark :${commit.n + 1}\nauthor ${AUTHOR} ${commit.time} +0000\ncommitter ${AUTHOR} ${commit.time} +0000\n${data(message)}` +
      (commit.n ? `from :${commit.n}\n` : '') + ops.join(''));
    if (commit.n === 0) firstTime = commit.time;
    lastTime = commit.time;
    if (commit.n % 10_000 === 9_999) log(`year-${commits}: ${commit.n + 1} commits, ${Math.round((performance.now() - started) / 1000)} s`);
  }
  await fastImport.done();
  const fastImportMs = Math.round(performance.now() - started);
  log(`year-${commits}: fast-import ${fastImportMs} ms`);

  const pick = random(seed + 1);
  const refs = (filter: (c: number, i: number) => boolean, perCluster: number) => CLUSTERS.flatMap((_, c) => {
    const found: YearObjectRef[] = [];
    for (let tries = 0; tries < objects * 4 && found.length < perCluster; tries++) {
      const i = tries < HOT ? tries : Math.floor(pick() * objects);
      if (!plan.alive[c][i] || !filter(c, i) || found.some((f) => f.path === pathOf(yearObject(c, i)))) continue;
      const obj = yearObject(c, i);
      found.push({ cluster: obj.cluster, type: obj.type, namespace: obj.namespace ?? '_cluster', name: obj.name, path: pathOf(obj), versions: plan.versions[c][i] });
    }
    return found;
  });
  const manifest: YearManifest = {
    commits, objects, seed, clusters: CLUSTERS, firstTime, lastTime,
    hot: refs((_, i) => i < HOT, HOT),
    cold: refs((c, i) => i >= HOT && plan.versions[c][i] <= 3, 20),
    generation: { fastImportMs, packs: 'fast-import --depth=0 (one pack, whole objects)' },
  };
  writeFileSync(manifestFile, JSON.stringify(manifest, null, 1));
  writeFileSync(join(dir, 'ready'), '');
  return { gitdir, manifest };
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { commits: { type: 'string', default: '100000' }, objects: { type: 'string', default: '10000' } } });
  const { gitdir, manifest } = await ensureYearHistory(Number(values.commits), { objects: Number(values.objects) });
  console.log(gitdir, JSON.stringify({ ...manifest, hot: manifest.hot.length, cold: manifest.cold.length }));
}
