// The history index must answer exactly as walking git does: a randomized history (clusters, cluster-scoped and
// namespaced types, deletions, re-creations with the same content, a merge, commits outside clusters/, a clock
// that steps back, the branch moved to another line) is queried with and without it. The index file a sync keeps
// must equal one built from scratch, and a torn or damaged file must be repaired, never trusted.
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { indexFile, loadIndexFile, updateIndexFile } from '../../src/history/index-file.ts';
import { decodeRecords, encodeRecord, MAGIC } from '../../src/history/index-format.ts';
import { History, type ObjectRef } from '../../src/history/queries.ts';
import { GitReader } from '../../src/history/reader.ts';
import { CLUSTER_SCOPED_DIR } from '../../src/model/object-path.ts';
import { Repo } from '../../src/store/repo.ts';

function random(seed: number) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13; s ^= s >>> 17; s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

const CLUSTERS = ['east', 'west', 'lab'];
const TYPES = ['apps.v1.Deployment', 'core.v1.ConfigMap', 'rbac.authorization.k8s.io.v1.ClusterRole'];
const scoped = (type: string) => type.startsWith('rbac');
const refs: ObjectRef[] = [];
for (const clusterId of CLUSTERS) {
  for (const type of TYPES) {
    for (let i = 0; i < 6; i++) refs.push({ clusterId, type, namespace: scoped(type) ? undefined : ['shop', 'ops'][i % 2], name: `o${i}` });
  }
}
const pathOf = (r: ObjectRef) => `clusters/${r.clusterId}/${r.type}/${r.namespace ?? CLUSTER_SCOPED_DIR}/${r.name}.yaml`;

const work = mkdtempSync(join(tmpdir(), 'kubetrail-history-index-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Writes `n` commits on the branch, each changing a few objects of one cluster (or a file outside clusters/). */
async function grow(repo: Repo, files: Map<string, string>, n: number, rand: () => number, clock: { t: number }, tag: string): Promise<string[]> {
  const made: string[] = [];
  for (let i = 0; i < n; i++) {
    const head = await repo.head();
    const cluster = CLUSTERS[Math.floor(rand() * CLUSTERS.length)];
    let message = `${cluster}: sync ${tag}${i}\n\nKubetrail-Cluster: ${cluster}\n`;
    if (rand() < 0.05) {
      files.set('README.md', await repo.writer.write('blob', Buffer.from(`notes ${tag}${i}\n`)));
      message = `a person's commit ${tag}${i}\n`;
    } else {
      const mine = refs.filter((r) => r.clusterId === cluster);
      for (let k = 1 + Math.floor(rand() * 4); k > 0; k--) {
        const r = mine[Math.floor(rand() ** 2 * mine.length)];
        const path = pathOf(r);
        if (files.has(path) && rand() < 0.2) files.delete(path);
        else {
          // Few distinct values: an object often goes back to content it had (the same blob again).
          const value = Math.floor(rand() * 3);
          files.set(path, await repo.writer.write('blob', Buffer.from(`kind: X\nmetadata:\n  name: ${r.name}\ndata:\n  v: "${value}"\n`)));
        }
      }
    }
    const tree = await repo.writeTreeFromFiles(files);
    clock.t += rand() < 0.05 ? -90 : 60; // now and then a clock that stepped back
    const parents = head ? [head] : [];
    if (head && rand() < 0.02) { // a merge of a side commit (first-parent history ignores its changes)
      const side = await repo.writeCommit({ tree: tree!, parents: [head], author: { name: 's', email: 's@x', timestamp: clock.t }, message: 'side\n' });
      parents.push(side);
    }
    const commit = await repo.writeCommit({ tree: tree!, parents, author: { name: 'k', email: 'k@x', timestamp: clock.t - 5 }, committer: { name: 'k', email: 'k@x', timestamp: clock.t }, message });
    await repo.updateBranch(head, commit);
    made.push(commit);
  }
  return made;
}

/** Every query History answers, with random parameters from `rand`, as JSON (errors as their messages). */
async function answers(h: History, commits: string[], times: number[], rand: () => number): Promise<unknown[]> {
  const out: unknown[] = [];
  const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)];
  const time = () => new Date((pick(times) + Math.floor(rand() * 120) - 60) * 1000).toISOString();
  const at = () => [undefined, time(), pick(commits), pick(commits).slice(0, 7), '2001-01-01T00:00:00Z'][Math.floor(rand() * 5)];
  const settle = async (p: Promise<unknown>) => p.then((v) => JSON.parse(JSON.stringify(v)), (e: Error) => ({ error: e.message }));
  for (let i = 0; i < 40; i++) {
    const ref = pick(refs);
    out.push(await settle(h.getVersions({ ...ref, limit: pick([100, 3]) })));
    out.push(await settle(h.getObject({ ...ref, at: at() })));
    out.push(await settle(h.diffObject({ ...ref, from: at() ?? time(), to: at() })));
    const q = {
      clusterId: rand() < 0.6 ? ref.clusterId : undefined, type: rand() < 0.4 ? ref.type : undefined,
      namespace: rand() < 0.2 ? ref.namespace : undefined, since: rand() < 0.3 ? time() : undefined, until: rand() < 0.3 ? time() : undefined,
      limit: pick([1, 5, 20]), objectsPerCommit: pick([1, 2, 100]),
    };
    let page = await settle(h.getChanges(q)) as { nextCursor?: string };
    out.push(page);
    for (let k = 0; k < 2 && page.nextCursor; k++) out.push(page = await settle(h.getChanges({ ...q, cursor: page.nextCursor })) as { nextCursor?: string });
    out.push(await settle(h.getChanges({ ...q, cursor: pick(commits) })));
    out.push(await settle(h.getSnapshots({ clusterId: ref.clusterId, at: at(), limit: 500 })));
  }
  for (const c of CLUSTERS) {
    out.push(await settle(h.lastClusterCommit(c)));
    for (const t of [...TYPES, 'batch.v1.Job']) out.push(await settle(h.typeEverRecorded(c, t)));
  }
  return out;
}

/** A new bare repository and what grows its history, deterministic for `seed`. */
async function randomHistory(name: string, seed: number) {
  const dir = join(work, name);
  const repo = await Repo.open(dir, { bare: true });
  const rand = random(seed);
  const files = new Map<string, string>();
  const clock = { t: 1_750_000_000 };
  return { dir, repo, rand, files, grow: (n: number, tag: string) => grow(repo, files, n, rand, clock, tag) };
}

const git = (dir: string, args: string[]) => execFileSync('git', ['--git-dir', dir, ...args]).toString();

describe('history index', () => {
  it('answers every query as walking git does, across catch-up, a moved branch and a reload', async () => {
    const { dir, repo, rand, files, grow: more } = await randomHistory('random', 7);
    const commits: string[] = [];
    const walking = new History(new GitReader(repo), { index: false });
    const indexed = new History(new GitReader(repo));
    const compare = async (h: History) => {
      const times = await Promise.all(commits.map(async (c) => (await repo.readCommit(c)).committer.timestamp));
      const seed = Math.floor(rand() * 1e9);
      expect(await answers(h, commits, times, random(seed))).toEqual(await answers(walking, commits, times, random(seed)));
    };

    commits.push(...await more(120, 'a'));
    expect(await updateIndexFile(repo, new GitReader(repo))).toEqual({ added: 120, remaining: 0 });
    commits.push(...await more(80, 'b')); // the file lacks these: caught up in memory
    await compare(indexed);
    await compare(new History(new GitReader(repo)));

    // The branch moves to another line (a push re-applied the run's commits on a newer remote head).
    const base = commits[150];
    await repo.updateBranch(await repo.head(), base);
    commits.splice(151);
    const filesAtBase = await repo.listFiles((await repo.readCommit(base)).tree);
    files.clear();
    for (const [p, b] of filesAtBase) files.set(p, b);
    commits.push(...await more(40, 'c'));
    await compare(indexed); // its in-memory index cut back to the join and continued
    expect(await updateIndexFile(repo, new GitReader(repo))).toEqual({ added: 40 + (150 - 119), remaining: 0 }); // commits[151…] are gone
    await compare(new History(new GitReader(repo))); // loaded from the file

    // The kept file equals one built from scratch, and its records are the branch's first-parent chain.
    const kept = readFileSync(indexFile(dir));
    rmSync(indexFile(dir));
    await updateIndexFile(repo, new GitReader(repo));
    expect(readFileSync(indexFile(dir)).equals(kept)).toBe(true);
    expect(Array.from(decodeRecords(kept), (r) => r.record.oid).reverse()).toEqual(git(dir, ['rev-list', '--first-parent', 'main']).trim().split('\n'));
  });

  it('follows history as far as git has it (a shallow fetch cuts it), and starts again when it is deepened', async () => {
    const { dir, repo, rand, grow: more } = await randomHistory('cut', 5);
    const commits = await more(60, 'a');
    const times = await Promise.all(commits.map(async (c) => (await repo.readCommit(c)).committer.timestamp));
    const loose = join(dir, 'objects', commits[19].slice(0, 2), commits[19].slice(2));
    renameSync(loose, `${loose}.away`); // commits[20] is where this repository's history begins
    const walking = new History(new GitReader(repo), { index: false });
    const indexed = new History(new GitReader(repo));
    const same = async () => {
      const seed = Math.floor(rand() * 1e9);
      const known = commits.slice(commits.length - (await walking.getChanges({ limit: 500 })).changes.length);
      expect(await answers(indexed, known, times, random(seed))).toEqual(await answers(walking, known, times, random(seed)));
    };
    await same();
    expect(await updateIndexFile(repo, new GitReader(repo))).toEqual({ added: 40, remaining: 0 });
    expect(Array.from(decodeRecords(readFileSync(indexFile(dir))))[0].record).toMatchObject({ oid: commits[20], parent: commits[19] });

    renameSync(`${loose}.away`, loose); // deepened
    commits.push(...await more(3, 'b'));
    times.push(...await Promise.all(commits.slice(-3).map(async (c) => (await repo.readCommit(c)).committer.timestamp)));
    await same();
    expect(await updateIndexFile(repo, new GitReader(repo))).toEqual({ added: 63, remaining: 0 });
  });

  it('cuts a torn or damaged file back to its valid records and continues from there', async () => {
    const { dir, repo, grow: more } = await randomHistory('torn', 11);
    await more(30, 'a');
    await updateIndexFile(repo, new GitReader(repo));
    const whole = readFileSync(indexFile(dir));
    const records = Array.from(decodeRecords(whole));

    appendFileSync(indexFile(dir), whole.subarray(MAGIC.length, MAGIC.length + 40)); // a torn append
    await more(5, 'b');
    expect(await updateIndexFile(repo, new GitReader(repo))).toEqual({ added: 5, remaining: 0 });
    expect(Array.from(decodeRecords(readFileSync(indexFile(dir)))).length).toBe(35);

    const damaged = readFileSync(indexFile(dir));
    damaged[records[9].end + 30] ^= 0xff; // inside record 10
    writeFileSync(indexFile(dir), damaged);
    expect(Array.from(decodeRecords(damaged)).length).toBe(10);
    const walking = new History(new GitReader(repo), { index: false });
    const ref = refs.find((r) => r.clusterId === 'east')!;
    expect(await new History(new GitReader(repo)).getVersions(ref)).toEqual(await walking.getVersions(ref));
    expect(await updateIndexFile(repo, new GitReader(repo))).toEqual({ added: 25, remaining: 0 });
    expect(Array.from(decodeRecords(readFileSync(indexFile(dir)))).length).toBe(35);

    writeFileSync(indexFile(dir), 'not an index at all'); // replaced, not trusted
    expect(await updateIndexFile(repo, new GitReader(repo), { maxNewCommits: 20 })).toEqual({ added: 20, remaining: 15 });
    expect(await updateIndexFile(repo, new GitReader(repo), { maxNewCommits: 20 })).toEqual({ added: 15, remaining: 0 });
    expect(readFileSync(indexFile(dir)).subarray(0, MAGIC.length).equals(MAGIC)).toBe(true);
  });

  it('encodes a record and reads it back', () => {
    const r = { oid: 'a'.repeat(40), parent: 'b'.repeat(40), committerTime: 1_800_000_000, authorTime: 1_799_999_999, cluster: 'prod-us',
      changes: [{ path: 'clusters/prod-us/core.v1.ConfigMap/café/menü.yaml', blob: 'c'.repeat(40) }, { path: 'clusters/prod-us/x/_cluster/y.yaml' }] };
    const file = Buffer.concat([MAGIC, encodeRecord({ ...r, parent: undefined, oid: 'b'.repeat(40) }), encodeRecord(r)]);
    expect(Array.from(decodeRecords(file), (d) => d.record)[1]).toEqual(r);
    expect(() => encodeRecord({ ...r, changes: [{ path: 'README.md' }] })).toThrow(/outside clusters/);
  });

  it('loads a file of many megabytes a part at a time: records across parts, one larger than a part, a torn tail', () => {
    const dir = mkdtempSync(join(work, 'load-'));
    const oid = (i: number) => i.toString(16).padStart(40, '0');
    const blob = (i: number, v: number) => ((i * 7919 + v) % 2 ** 32).toString(16).padStart(40, 'f');
    const path = (i: number) => `clusters/c${i % 3}/core.v1.ConfigMap/ns-${i % 17}/name-${i}-ü.yaml`;
    // A first commit of 30k files (~2 MB: more than a part), then 4,000 of 1-40 changes, some deletions.
    const records = [{ oid: oid(1), committerTime: 1, authorTime: 1, cluster: 'c0', changes: Array.from({ length: 30_000 }, (_, i) => ({ path: path(i), blob: blob(i, 0) })) }];
    const rand = random(21);
    for (let n = 2; n <= 4_001; n++) {
      const picked = [...new Set(Array.from({ length: 1 + Math.floor(rand() * 40) }, () => Math.floor(rand() * 32_000)))].sort((a, b) => (path(a) < path(b) ? -1 : 1));
      records.push({ oid: oid(n), parent: oid(n - 1), committerTime: n, authorTime: n, cluster: 'c1', changes: picked.map((i) => (rand() < 0.05 ? { path: path(i) } : { path: path(i), blob: blob(i, n) })) } as never);
    }
    mkdirSync(join(dir, 'kubetrail'));
    const whole = Buffer.concat([MAGIC, ...records.map(encodeRecord)]);
    writeFileSync(indexFile(dir), Buffer.concat([whole, encodeRecord({ ...records[5], parent: oid(4_001) }).subarray(0, 30)]));
    expect(whole.length).toBeGreaterThan(3 << 20);

    const { index } = loadIndexFile(dir);
    expect(index.size).toBe(records.length);
    expect(index.tip).toBe(oid(4_001));
    // Every path's versions and blobs as the records say.
    const expected = new Map<string, { position: number; blob?: string }[]>();
    records.forEach((r, position) => r.changes.forEach((c) => expected.set(c.path, [{ position, blob: c.blob }, ...(expected.get(c.path) ?? [])])));
    for (const i of [0, 1, 2, 999, 29_999, 30_000, 31_999]) {
      const want = expected.get(path(i)) ?? [];
      expect([...index.versionsOf(path(i))].map((v) => v.position)).toEqual(want.map((v) => v.position));
      for (const v of want) expect(index.blobAt(path(i), v.position)).toBe(v.blob);
    }
    expect(index.changesAt(4_000, 'clusters').map((c) => c.path)).toEqual(records[4_000].changes.map((c) => c.path));
    expect(index.everUnder('clusters/c2/core.v1.ConfigMap')).toBe(true);
    expect(index.everUnder('clusters/c3')).toBe(false);
    expect(Array.from(decodeRecords(readFileSync(indexFile(dir))), (d) => d.record)).toEqual(records);
  });
});

