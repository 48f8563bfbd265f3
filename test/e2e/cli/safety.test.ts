// What must never happen: a failed type recorded as deleted, a corrupt repo after kill -9, clusters touching each other.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createMany } from '../../helpers/objects.ts';
import { ensureNamespace, kubeconfigFor, serviceAccountToken } from '../../helpers/rbac.ts';
import { adminClient, git, kubectl, runCli, runtime, spawnCli, tempDir, testenv } from '../../helpers/testenv.ts';

const client = adminClient();
const commits = (repo: string) => Number(git(repo, ['rev-list', '--count', 'HEAD']));

function config(dir: string, clusters: string[][]): string {
  const file = join(dir, 'kubetrail.yaml');
  writeFileSync(file, [`repo: ${join(dir, 'repo')}`, 'clusters:', ...clusters.flat()].join('\n'));
  return file;
}

const looseObjects = (repo: string) => {
  const objects = join(repo, '.git', 'objects');
  return readdirSync(objects).filter((d) => d.length === 2).reduce((n, d) => n + readdirSync(join(objects, d)).length, 0);
};
// Present from a sync's commit until its working tree matches it (src/store/repo.ts).
const PENDING_CHECKOUT = 'kubetrail-checkout-pending';
// Bytes in the pack a sync is still writing (a first sync packs everything after its first 100 objects).
const tempPackBytes = (repo: string) => {
  const packs = join(repo, '.git', 'objects', 'pack');
  return existsSync(packs) ? readdirSync(packs).filter((f) => f.startsWith('tmp_pack')).reduce((n, f) => n + statSync(join(packs, f)).size, 0) : 0;
};

describe(`crash and failure safety (CLI under ${runtime})`, () => {
  it('a type the sync may not list keeps its files: exit 3, named in the commit, never deleted', async () => {
    const ns = `forbid-cli-${runtime}`;
    await ensureNamespace(client, ns);
    await createMany(client, `/api/v1/namespaces/${ns}/configmaps`, [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { v: '1' } }]);
    await createMany(client, `/api/v1/namespaces/${ns}/services`, [{ apiVersion: 'v1', kind: 'Service', metadata: { name: 's' }, spec: { ports: [{ port: 80 }] } }]);
    const dir = tempDir('forbid');
    const token = await serviceAccountToken(client, ns, 'no-services', [
      { apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list'] },
    ]);
    writeFileSync(join(dir, 'restricted'), kubeconfigFor([{ name: 'sa', token }], 'sa'));
    const cluster = (kubeconfig: string) => [['  - id: forbid', `    kubeconfig: ${kubeconfig}`, `    namespaces: [${ns}]`,
      '    select: [core.v1.ConfigMap, core.v1.Service]']];
    const repo = join(dir, 'repo');

    expect((await runCli(['sync', '--config', config(dir, cluster(testenv().KUBECONFIG))])).code).toBe(0);
    expect(git(repo, ['ls-files'])).toContain(`core.v1.Service/${ns}/s.yaml`);

    kubectl(['-n', ns, 'patch', 'configmap', 'c', '-p', '{"data":{"v":"2"}}']);
    const res = await runCli(['sync', '--config', config(dir, cluster(join(dir, 'restricted')))]);
    expect(res.code).toBe(3);
    expect(res.stdout).toMatch(/forbid: partial/);
    expect(res.stdout).toMatch(/failed: core\.v1\.Service: 403/);
    expect(git(repo, ['show', '--name-status', '--format=', 'HEAD']).trim()).toBe(`M\tclusters/forbid/core.v1.ConfigMap/${ns}/c.yaml`);
    expect(git(repo, ['log', '-1', '--format=%B'])).toContain('Kubetrail-Failed-Types: core.v1.Service');
    expect(git(repo, ['log', '--diff-filter=D', '--name-only', '--format='])).toBe('');
    expect(existsSync(join(repo, `clusters/forbid/core.v1.Service/${ns}/s.yaml`))).toBe(true);
  });

  it('kill -9 at any point of a 5,000-object sync leaves a valid repo; the next run converges with one commit', async () => {
    const ns = `crash-${runtime}`;
    await ensureNamespace(client, ns);
    // 1 KiB of hex per object: a pack of ~3 MB, written in several chunks, so a kill can land mid-pack.
    const payload = (i: number) => Array.from({ length: 16 }, (_, k) => createHash('sha256').update(`${i}/${k}`).digest('hex')).join('');
    await createMany(client, `/api/v1/namespaces/${ns}/configmaps`, Array.from({ length: 5000 }, (_, i) => ({
      apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cm-${i}` }, data: { payload: payload(i) },
    })));
    const dir = tempDir('crash');
    const file = config(dir, [['  - id: crash', `    kubeconfig: ${testenv().KUBECONFIG}`, `    namespaces: [${ns}]`, '    select: [core.v1.ConfigMap]']]);
    const repo = join(dir, 'repo');
    // Kill while the first loose objects are written, in the middle of writing the pack, after the commit while
    // the working tree is written, then early in two later runs (those finish the interrupted checkout).
    let interrupted = 0;
    for (const trigger of [{ loose: 50 }, { packBytes: 100_000 }, { checkout: true }, { ms: 300 }, { ms: 700 }]) {
      const child = spawnCli(['sync', '--config', file]);
      const exited = new Promise((r) => child.once('exit', r));
      const started = Date.now();
      while (child.exitCode === null) {
        const due = 'loose' in trigger ? existsSync(join(repo, '.git', 'objects')) && looseObjects(repo) >= trigger.loose!
          : 'packBytes' in trigger ? tempPackBytes(repo) >= trigger.packBytes!
          : 'checkout' in trigger ? existsSync(join(repo, '.git', PENDING_CHECKOUT))
          : Date.now() - started >= trigger.ms!;
        if (due) {
          child.kill('SIGKILL');
          break;
        }
        await new Promise((r) => setTimeout(r, 20));
      }
      await exited;
      if (child.signalCode === 'SIGKILL') interrupted++;
      if ('loose' in trigger || 'packBytes' in trigger) expect(() => git(repo, ['rev-parse', '--verify', '-q', 'HEAD'])).toThrow(); // killed before its commit
      if (existsSync(join(repo, '.git'))) expect(git(repo, ['fsck', '--full', '--no-dangling']).replace(/notice:.*\n/g, '')).toBe('');
    }
    expect(interrupted).toBeGreaterThanOrEqual(4);
    const res = await runCli(['sync', '--config', file, '--json']);
    expect(res.code).toBe(0);
    expect(git(repo, ['fsck', '--strict', '--no-dangling'])).toBe('');
    expect(commits(repo)).toBe(1);
    expect(git(repo, ['ls-tree', '-r', '--name-only', 'HEAD']).trim().split('\n')).toHaveLength(5000);
    expect(git(repo, ['status', '--porcelain'])).toBe('');
    expect(git(repo, ['diff', '--cached', '--stat'])).toBe(''); // the index matches HEAD, not only the working tree
    expect(tempPackBytes(repo)).toBe(0); // what killed runs left behind is cleaned up
    expect(git(repo, ['count-objects', '-v'])).toMatch(/^garbage: 0$/m);
    const again = JSON.parse((await runCli(['sync', '--config', file, '--json'])).stdout);
    expect(again).toMatchObject({ added: 0, changed: 0, deleted: 0, unchanged: 5000 });
    expect(again.commit).toBeUndefined();
  });

  it('two clusters in one repository: separate subtrees, separate commits, neither touches the other', async () => {
    const [a, b] = [`two-a-${runtime}`, `two-b-${runtime}`];
    for (const ns of [a, b]) {
      await ensureNamespace(client, ns);
      await createMany(client, `/api/v1/namespaces/${ns}/configmaps`, [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings' }, data: { ns } }]);
    }
    const dir = tempDir('two');
    const cluster = (id: string, ns: string) => [`  - id: ${id}`, `    kubeconfig: ${testenv().KUBECONFIG}`, `    namespaces: [${ns}]`, '    select: [core.v1.ConfigMap]'];
    const file = config(dir, [cluster('alpha', a), cluster('beta', b)]);
    const repo = join(dir, 'repo');
    expect((await runCli(['sync', '--config', file])).code).toBe(0);
    expect(git(repo, ['ls-tree', '--name-only', 'HEAD:clusters'])).toBe('alpha\nbeta\n');
    const subjects = git(repo, ['log', '--format=%s']).trim().split('\n').sort();
    expect(subjects).toEqual(['alpha: +1 ~0 -0', 'beta: +1 ~0 -0']);
    for (const c of git(repo, ['rev-list', 'HEAD']).trim().split('\n')) {
      const id = git(repo, ['log', '-1', '--format=%(trailers:key=Kubetrail-Cluster,valueonly)', c]).trim();
      const touched = git(repo, ['show', '--name-only', '--format=', c]).trim().split('\n');
      expect(touched.every((p) => p.startsWith(`clusters/${id}/`))).toBe(true);
    }
    kubectl(['-n', b, 'patch', 'configmap', 'settings', '-p', '{"data":{"changed":"yes"}}']);
    expect((await runCli(['sync', '--config', file])).code).toBe(0);
    expect(commits(repo)).toBe(3);
    expect(git(repo, ['show', '--name-only', '--format=%s', 'HEAD']).trim()).toBe(`beta: +0 ~1 -0\n\nclusters/beta/core.v1.ConfigMap/${b}/settings.yaml`);
    expect(git(repo, ['fsck', '--strict', '--no-dangling'])).toBe('');
  });
});
