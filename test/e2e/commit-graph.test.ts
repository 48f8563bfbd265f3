// The commit-graph chain kubetrail writes, checked with the git CLI on a real fast-imported history: byte for byte
// what git itself writes, `git commit-graph verify` and `git fsck` clean, path-limited `git log` identical with
// the graph on and off and really answered from the Bloom filters, then kept current layer by layer.
import { execFileSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readChain, updateCommitGraph } from '../../src/store/commit-graph.ts';
import { ObjectDatabase } from '../../src/store/object-db.ts';
import { fastImportHistory, objectPath } from '../helpers/fast-import-history.ts';

const git = (gitdir: string, args: string[], env: Record<string, string> = {}) =>
  execFileSync('git', ['--git-dir', gitdir, ...args], { encoding: 'utf8', maxBuffer: 256 << 20, env: { ...process.env, ...env } });
const graphsDir = (gitdir: string) => join(gitdir, 'objects/info/commit-graphs');
const chainOf = (gitdir: string) => readFileSync(join(graphsDir(gitdir), 'commit-graph-chain'), 'utf8').trim().split('\n');
const update = (gitdir: string, o?: { maxNewCommits?: number }) => {
  const db = new ObjectDatabase(gitdir);
  return updateCommitGraph(gitdir, (oid) => db.read(oid), o);
};

const QUERIES = [
  ['log', '--oneline', '--', objectPath(0)],
  ['log', '--oneline', '--', objectPath(17)],
  ['log', '--name-status', '--', 'clusters/prod-us/apps.v1.Deployment'],
  ['log', '--oneline', '--', 'clusters/prod-eu/core.v1.ConfigMap/café'],
  ['log', '--oneline', '--', 'clusters/staging/core.v1.Secret/bulk/s-3.yaml'],
  ['log', '--oneline', '--all', '--', 'clusters/prod-us/core.v1.Service/shop'],
  ['log', '-p', '-n', '20', '--', 'clusters/prod-us/apps.v1.Deployment'],
];

/** What git and the chain must agree on, after every update. */
function expectGitAgrees(gitdir: string): void {
  git(gitdir, ['commit-graph', 'verify']); // throws on any error
  expect(git(gitdir, ['fsck', '--no-dangling']).trim()).toBe('');
  for (const q of QUERIES) {
    expect(git(gitdir, ['-c', 'core.commitGraph=true', ...q]), q.join(' ')).toBe(git(gitdir, ['-c', 'core.commitGraph=false', ...q]));
  }
  const trace = join(gitdir, 'trace2.json');
  rmSync(trace, { force: true });
  git(gitdir, ['log', '--oneline', '--', objectPath(0)], { GIT_TRACE2_EVENT: trace });
  const stats = readFileSync(trace, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l))
    .find((e) => e.event === 'data_json' && e.category === 'bloom' && e.key === 'statistics')?.value;
  expect(stats, 'git used the Bloom filters').toBeDefined();
  expect(stats.filter_not_present).toBe(0); // every commit it walked had a filter in the chain
  expect(stats.definitely_not).toBeGreaterThan(Number(git(gitdir, ['rev-list', '--count', 'main'])) / 2);
}

describe('commit-graph chain', () => {
  let gitdir: string;
  beforeAll(async () => {
    gitdir = join(mkdtempSync(join(tmpdir(), 'kt-commit-graph-')), 'repo.git');
    git(tmpdir(), ['init', '-q', '--bare', '-b', 'main', gitdir]);
    await fastImportHistory(gitdir, { commits: 1200, seed: 3 });
  }, 300_000);
  afterAll(() => rmSync(join(gitdir, '..'), { recursive: true, force: true }));

  it('writes, for a whole history, the file git itself writes; git verifies it and uses its filters', async () => {
    const result = await update(gitdir);
    expect(result).toMatchObject({ added: 1205, rewritten: 0, layers: 1, remaining: 0 }); // 1200 + side commits and merges
    const [layer] = chainOf(gitdir);
    const gitsOwn = join(gitdir, '..', 'git-wrote.git');
    cpSync(gitdir, gitsOwn, { recursive: true });
    rmSync(graphsDir(gitsOwn), { recursive: true });
    git(gitsOwn, ['-c', 'commitGraph.changedPathsVersion=1', 'commit-graph', 'write', '--reachable', '--changed-paths']);
    expect(readFileSync(join(graphsDir(gitdir), `graph-${layer}.graph`)).equals(readFileSync(join(gitsOwn, 'objects/info/commit-graph')))).toBe(true);
    expectGitAgrees(gitdir);
    expect(await update(gitdir)).toBeUndefined(); // nothing new: nothing written
  });

  it('adds a layer for new commits only, merges layers by size, and git still agrees', async () => {
    const bottom = chainOf(gitdir)[0];
    const bottomStat = statSync(join(graphsDir(gitdir), `graph-${bottom}.graph`));
    await fastImportHistory(gitdir, { commits: 100, seed: 4, continueFrom: true, startTime: 1_800_000_000, shapes: false });
    expect(await update(gitdir)).toMatchObject({ added: 100, rewritten: 0, layers: 2 });
    expect(chainOf(gitdir)[0]).toBe(bottom);
    expect(statSync(join(graphsDir(gitdir), `graph-${bottom}.graph`)).mtimeMs).toBe(bottomStat.mtimeMs); // not rewritten
    expectGitAgrees(gitdir);
    await fastImportHistory(gitdir, { commits: 30, seed: 5, continueFrom: true, startTime: 1_810_000_000, shapes: false });
    expect(await update(gitdir)).toMatchObject({ added: 30, rewritten: 0, layers: 3 });
    expectGitAgrees(gitdir);
    // 200 new commits: the 30 and 100 layers are at most twice what is written above them, the 1205 one is not.
    await fastImportHistory(gitdir, { commits: 200, seed: 6, continueFrom: true, startTime: 1_820_000_000 });
    const merged = await update(gitdir);
    expect(merged).toMatchObject({ rewritten: 130, layers: 2 });
    expect(chainOf(gitdir)[0]).toBe(bottom);
    expect(readdirSync(graphsDir(gitdir)).filter((n) => n.endsWith('.graph'))).toHaveLength(2); // merged ones gone
    expectGitAgrees(gitdir);
  });

  it('rebuilds a damaged layer, replaces a single-file graph, and catches up over runs', async () => {
    const [bottom, top] = chainOf(gitdir);
    const file = join(graphsDir(gitdir), `graph-${top}.graph`);
    const bytes = readFileSync(file);
    bytes[bytes.length - 100] ^= 0xff;
    writeFileSync(file, bytes);
    expect(readChain(gitdir).complete).toBe(false);
    const rebuilt = await update(gitdir);
    expect(rebuilt?.added).toBeGreaterThan(0);
    expect(chainOf(gitdir)[0]).toBe(bottom);
    expectGitAgrees(gitdir);

    // `git gc` (or a person) wrote objects/info/commit-graph: git would read it instead of the chain.
    copyFileSync(join(graphsDir(gitdir), `graph-${bottom}.graph`), join(gitdir, 'objects/info/commit-graph'));
    const before = chainOf(gitdir);
    await update(gitdir);
    expect(existsSync(join(gitdir, 'objects/info/commit-graph'))).toBe(false);
    expect(chainOf(gitdir)).toEqual(before); // no empty layer: git never writes one
    expectGitAgrees(gitdir);

    // No chain at all and a run bounded to 500 commits: each run's layer is usable, the last one completes it.
    rmSync(graphsDir(gitdir), { recursive: true });
    let remaining = Infinity;
    for (let run = 0; remaining > 0 && run < 10; run++) {
      remaining = (await update(gitdir, { maxNewCommits: 500 }))!.remaining;
      git(gitdir, ['commit-graph', 'verify']);
    }
    expect(remaining).toBe(0);
    expectGitAgrees(gitdir);
  });

  it('leaves a shallow clone alone, as git does (its oldest commits\' parents are not there)', async () => {
    const shallow = join(gitdir, '..', 'shallow.git');
    execFileSync('git', ['clone', '-q', '--bare', '--depth', '3', `file://${gitdir}`, shallow]);
    expect(await update(shallow)).toBeUndefined();
    expect(existsSync(graphsDir(shallow))).toBe(false);
  });
});
