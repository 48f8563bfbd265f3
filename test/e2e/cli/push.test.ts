// Many clusters, each its own CronJob-like process, pushing to one branch of one remote at the same time.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGitServer, type GitServer } from '../../env/git-server.ts';
import { createMany } from '../../helpers/objects.ts';
import { ensureNamespace } from '../../helpers/rbac.ts';
import { adminClient, git, kubectl, runCli, runtime, tempDir, testenv } from '../../helpers/testenv.ts';

const SYNCERS = 8;
const ROUNDS = 5;
const token = `push-token-${runtime}`;

describe(`push to one remote from ${SYNCERS} clusters at once (CLI under ${runtime})`, () => {
  let server: GitServer;
  const root = tempDir('remotes');
  const work = tempDir('push');
  const ids = Array.from({ length: SYNCERS }, (_, i) => `p${i}-${runtime}`);

  beforeAll(async () => {
    server = await startGitServer({ root, token });
    server.createBareRepo('fleet.git');
    const client = adminClient();
    for (const id of ids) {
      await ensureNamespace(client, id);
      await createMany(client, `/api/v1/namespaces/${id}/configmaps`, [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'state' }, data: { round: '0' } }]);
      writeFileSync(join(work, `${id}.yaml`), [`repo: ${join(work, id)}`, `remote: {url: ${server.repoUrl('fleet.git')}, branch: main, allowInsecureHttp: true}`,
        'clusters:', `  - id: ${id}`, `    kubeconfig: ${testenv().KUBECONFIG}`, `    namespaces: [${id}]`, '    select: [core.v1.ConfigMap]'].join('\n'));
    }
  });
  afterAll(() => server?.close());

  it('every push lands, nothing is lost, no cluster touches another', async () => {
    for (let round = 1; round <= ROUNDS; round++) {
      for (const [i, id] of ids.entries()) {
        if (round > 1) kubectl(['-n', id, 'patch', 'configmap', 'state', '-p', JSON.stringify({ data: { round: String(round) } })]);
        if (i % 2 === 1) rmSync(join(work, id), { recursive: true, force: true }); // a fresh CronJob pod: empty volume
      }
      const runs = await Promise.all(ids.map((id) =>
        runCli(['sync', '--config', join(work, `${id}.yaml`), '--push', '--json'], { env: { KUBETRAIL_GIT_TOKEN: token } })));
      for (const [i, run] of runs.entries()) {
        expect(run.stderr, `${ids[i]} round ${round}`).toBe('');
        expect(run.code, `${ids[i]} round ${round}: ${run.stdout}`).toBe(0);
        const out = JSON.parse(run.stdout);
        expect(out.push.commit).toMatch(/^[0-9a-f]{40}$/);
        expect(out.results[0].commit).toBeDefined();
      }
    }

    const clone = join(tempDir('verify'), 'fleet');
    git(work, ['clone', '-q', server.repoUrl('fleet.git').replace('http://', `http://x:${token}@`), clone]);
    expect(git(join(root, 'fleet.git'), ['fsck', '--strict', '--no-dangling'])).toBe('');
    expect(Number(git(clone, ['rev-list', '--count', 'HEAD']))).toBe(SYNCERS * ROUNDS);
    expect(git(clone, ['rev-list', '--merges', 'HEAD'])).toBe(''); // linear: re-applied, never merged or forced
    for (const id of ids) {
      const subjects = git(clone, ['log', `--format=%s`, `--grep=^Kubetrail-Cluster: ${id}$`]).trim().split('\n');
      expect(subjects).toEqual([...Array(ROUNDS - 1).fill(`${id}: +0 ~1 -0`), `${id}: +1 ~0 -0`]);
      // every round is in the remote history, in order
      const rounds = git(clone, ['log', '--reverse', '-p', '--format=', '--', `clusters/${id}/core.v1.ConfigMap/${id}/state.yaml`])
        .split('\n').filter((l) => /^\+\s+round:/.test(l)).map((l) => l.replace(/\D/g, ''));
      expect(rounds).toEqual(['0', '2', '3', '4', '5']);
      // each commit touched only its own cluster's subtree
      for (const c of git(clone, ['log', '--format=%H', `--grep=^Kubetrail-Cluster: ${id}$`]).trim().split('\n')) {
        expect(git(clone, ['show', '--name-only', '--format=', c]).trim().split('\n').every((p) => p.startsWith(`clusters/${id}/`))).toBe(true);
      }
      // the remote holds exactly what this cluster's last sync recorded
      expect(git(clone, ['rev-parse', `HEAD:clusters/${id}`])).toBe(git(join(work, id), ['rev-parse', `HEAD:clusters/${id}`]));
    }
  }, 600_000); // 40 process runs on 2 cores, each a full Node start-up, racing for one ref

  it('the token is never written to the local repository', () => {
    for (const id of ids) {
      expect(readFileSync(join(work, id, '.git', 'config'), 'utf8')).not.toContain(token);
      expect(git(join(work, id), ['log', '--all', '--format=%B'])).not.toContain(token);
    }
  });

  it('a wrong token fails with a clear error that does not leak it, and exits 1', async () => {
    const id = ids[0];
    const res = await runCli(['sync', '--config', join(work, `${id}.yaml`), '--push'], { env: { KUBETRAIL_GIT_TOKEN: 'not-the-token' } });
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/cannot fetch .*fleet\.git.*401|HTTP Error: 401/);
    expect(res.stdout + res.stderr).not.toContain('not-the-token');
  });
});
