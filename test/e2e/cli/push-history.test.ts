// What a shared remote does to history besides accepting pushes: pushes that race (replayed commits must keep
// history in time order), a remote recreated empty, a remote force-pushed with another history. Every case ends
// with a fresh clone that `git fsck` finds clean. Runs with the CLI under Node and under Deno.
import { readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { indexFile } from '../../../src/history/index-file.ts';
import { decodeRecords } from '../../../src/history/index-format.ts';
import { GitReader } from '../../../src/history/reader.ts';
import { History } from '../../../src/history/queries.ts';
import { Repo } from '../../../src/store/repo.ts';
import { startGitServer, type GitServer } from '../../env/git-server.ts';
import { createMany } from '../../helpers/objects.ts';
import { ensureNamespace } from '../../helpers/rbac.ts';
import { adminClient, git, kubectl, runCli, runtime, tempDir, testenv } from '../../helpers/testenv.ts';

const token = `history-token-${runtime}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe(`push history (CLI under ${runtime})`, () => {
  let server: GitServer;
  const root = tempDir('remotes');
  const work = tempDir('push-history');
  const client = adminClient();

  beforeAll(async () => {
    server = await startGitServer({ root, token });
  });
  afterAll(() => server?.close());

  /** A cluster of its own (namespace = id, one ConfigMap `state`) with a config pushing to `remote`. */
  async function cluster(id: string, remote: string): Promise<{ config: string; repo: string; set: (v: string) => void }> {
    await ensureNamespace(client, id);
    await createMany(client, `/api/v1/namespaces/${id}/configmaps`, [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'state' }, data: { v: '0' } }]);
    const config = join(work, `${id}.yaml`);
    const repo = join(work, id);
    writeFileSync(config, [`repo: ${repo}`, `remote: {url: ${server.repoUrl(remote)}, branch: main, allowInsecureHttp: true}`, 'clusters:', `  - id: ${id}`,
      `    kubeconfig: ${testenv().KUBECONFIG}`, `    namespaces: [${id}]`, '    select: [core.v1.ConfigMap]'].join('\n'));
    return { config, repo, set: (v) => void kubectl(['-n', id, 'patch', 'configmap', 'state', '-p', JSON.stringify({ data: { v } })]) };
  }

  const sync = (config: string, ...flags: string[]) => runCli(['sync', '--config', config, '--json', ...flags], { env: { KUBETRAIL_GIT_TOKEN: token } });

  async function expectPushed(config: string): Promise<string> {
    const res = await sync(config, '--push');
    expect(res.stderr).toBe('');
    expect(res.code, res.stdout).toBe(0);
    return JSON.parse(res.stdout).push.commit;
  }

  function freshClone(remote: string): string {
    const clone = join(tempDir('clone'), 'c');
    git(work, ['clone', '-q', server.repoUrl(remote).replace('http://', `http://x:${token}@`), clone]);
    expect(git(clone, ['fsck', '--strict', '--no-dangling'])).toBe('');
    return clone;
  }

  /**
   * The history index each run keeps (history/index-file.ts) is the branch's first-parent chain as far as the
   * repository has it (a replay's depth-1 fetch makes it shallow, yet the commits before are here), replays included.
   */
  const expectIndexOfBranch = async (repo: string) => {
    const indexed = Array.from(decodeRecords(readFileSync(indexFile(join(repo, '.git')))), (r) => r.record.oid).reverse();
    const chain: string[] = [];
    for await (const c of new GitReader(await Repo.open(repo)).commitsFrom()) chain.push(c.oid);
    expect(indexed).toEqual(chain);
    expect(chain[0]).toBe(git(repo, ['rev-parse', 'HEAD']).trim());
  };
  const stateIn = (clone: string, id: string) => git(clone, ['show', `HEAD:clusters/${id}/core.v1.ConfigMap/${id}/state.yaml`]).match(/v: "(\d+)"/)?.[1];

  it('a replayed commit is committed after its new parent, and at=<time> answers the branch as it was then', async () => {
    server.createBareRepo('race.git');
    const a = await cluster(`ra-${runtime}`, 'race.git');
    const b = await cluster(`rb-${runtime}`, 'race.git');
    await expectPushed(a.config);
    await expectPushed(b.config);
    // B reads its cluster and commits (not pushed yet); later A pushes; then B pushes and must replay onto A.
    b.set('1');
    expect((await sync(b.config)).code).toBe(0);
    const observedByB = Number(git(b.repo, ['log', '-1', '--format=%at']));
    await sleep(2200);
    a.set('1');
    await expectPushed(a.config);
    const pushedByA = Number(git(a.repo, ['log', '-1', '--format=%ct']));
    await sleep(2200);
    await expectPushed(b.config);

    const clone = freshClone('race.git');
    const times = git(clone, ['log', '--first-parent', '--format=%H %at %ct']).trim().split('\n').map((l) => l.split(' '));
    expect(times.length).toBe(4); // A, B, A, B replayed
    const [tip, parent] = times;
    expect(Number(tip[1])).toBe(observedByB); // author time: when B read its cluster
    expect(Number(tip[2])).toBeGreaterThanOrEqual(Number(parent[2])); // committer time: after A's commit
    for (let i = 0; i + 1 < times.length; i++) expect(Number(times[i][2])).toBeGreaterThanOrEqual(Number(times[i + 1][2]));

    // Between B's read and A's push, B's change was on no branch: at= that time answers from before A's commit.
    const history = new History(new GitReader(await Repo.open(clone)));
    const between = new Date((observedByB + 1) * 1000).toISOString();
    expect(pushedByA).toBeGreaterThan(observedByB + 1);
    const bAtThen = await history.getObject({ clusterId: `rb-${runtime}`, type: 'core.v1.ConfigMap', namespace: `rb-${runtime}`, name: 'state', at: between });
    expect(bAtThen.yaml).toContain('v: "0"');
    expect(bAtThen.commit).toBe(times[2][0]);
    const { changes } = await history.getChanges({ since: between });
    expect(changes.map((c) => c.commit)).toEqual([tip[0], parent[0]]);
    await expectIndexOfBranch(b.repo); // B's index had its own commit before the replay: cut back and continued
    expect(git(b.repo, ['rev-parse', 'HEAD'])).toBe(`${tip[0]}\n`);
  });

  it('a remote recreated empty gets the whole history again, from a full and from a shallow (fresh volume) repository', async () => {
    server.createBareRepo('recreated.git');
    const a = await cluster(`ca-${runtime}`, 'recreated.git');
    const b = await cluster(`cb-${runtime}`, 'recreated.git');
    for (const round of ['1', '2']) {
      a.set(round);
      b.set(round);
      await expectPushed(a.config);
      rmSync(b.repo, { recursive: true, force: true }); // B runs as a CronJob pod on an empty volume: a shallow fetch
      await expectPushed(b.config);
    }
    rmSync(join(root, 'recreated.git'), { recursive: true, force: true });
    server.createBareRepo('recreated.git');

    a.set('3');
    await expectPushed(a.config);
    b.set('3');
    await expectPushed(b.config); // B's repository is shallow: its history is made whole from what it has
    a.set('4');
    await expectPushed(a.config);
    const clone = freshClone('recreated.git');
    expect([stateIn(clone, `ca-${runtime}`), stateIn(clone, `cb-${runtime}`)]).toEqual(['4', '3']);
    expect(git(clone, ['rev-list', '--merges', 'HEAD'])).toBe('');
  });

  it('a remote force-pushed with an unrelated history: the next sync lands on top of it and keeps its files', async () => {
    server.createBareRepo('forced.git');
    const a = await cluster(`fa-${runtime}`, 'forced.git');
    a.set('1');
    await expectPushed(a.config);
    a.set('2');
    await expectPushed(a.config);

    const theirs = join(tempDir('theirs'), 'r');
    mkdirSync(join(theirs, 'docs'), { recursive: true });
    git(theirs, ['init', '-q', '-b', 'main']);
    writeFileSync(join(theirs, 'docs', 'README.md'), 'someone else\'s repository\n');
    git(theirs, ['add', '-A']);
    git(theirs, ['-c', 'user.name=p', '-c', 'user.email=p@x', 'commit', '-q', '-m', 'start over']);
    git(theirs, ['push', '-q', '--force', server.repoUrl('forced.git').replace('http://', `http://x:${token}@`), 'main']);
    const theirHead = git(theirs, ['rev-parse', 'HEAD']).trim();

    await expectPushed(a.config); // nothing changed in the cluster: its files still have to land
    let clone = freshClone('forced.git');
    expect(git(clone, ['merge-base', '--is-ancestor', theirHead, 'HEAD'])).toBe('');
    expect(git(clone, ['show', 'HEAD:docs/README.md'])).toBe('someone else\'s repository\n');
    expect(stateIn(clone, `fa-${runtime}`)).toBe('2');

    a.set('3');
    await expectPushed(a.config);
    clone = freshClone('forced.git');
    expect(stateIn(clone, `fa-${runtime}`)).toBe('3');
    expect(git(clone, ['show', 'HEAD:docs/README.md'])).toBe('someone else\'s repository\n');
    expect(git(clone, ['rev-list', '--merges', 'HEAD'])).toBe('');
    await expectIndexOfBranch(a.repo); // rebuilt on the unrelated history
  });
});
