// The repository lock as operators meet it: a container restart where kubetrail is PID 1 again, and a dry run
// beside a real run. Runs with the CLI under Node and under Deno.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, relative } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { lockRepo } from '../../../src/store/lock.ts';
import { createMany } from '../../helpers/objects.ts';
import { ensureNamespace } from '../../helpers/rbac.ts';
import { adminClient, git, kubectl, root, runCli, runtime, tempDir, testenv } from '../../helpers/testenv.ts';

const ns = `lock-${runtime}`;
const client = adminClient();

function config(dir: string, repo = join(dir, 'repo')): string {
  const file = join(dir, 'kubetrail.yaml');
  writeFileSync(file, [`repo: ${repo}`, 'clusters:', '  - id: locked', `    kubeconfig: ${testenv().KUBECONFIG}`,
    `    namespaces: [${ns}]`, '    select: [core.v1.ConfigMap]'].join('\n'));
  return file;
}

/** Every file under `dir` with its content hash (and the symlink target or directory marker). */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      if (name.startsWith('kubetrail.lock')) continue; // the real run's, its heartbeat moves it
      const path = join(d, name);
      const s = statSync(path);
      if (s.isDirectory()) {
        out[`${relative(dir, path)}/`] = 'dir';
        walk(path);
      } else {
        out[relative(dir, path)] = `${createHash('sha1').update(readFileSync(path)).digest('hex')} ${s.mtimeMs}`;
      }
    }
  };
  walk(dir);
  return out;
}

/** `kubetrail` as PID 1 of a new PID namespace, as in a container (root here; otherwise in a user namespace too). */
const asPid1 = (): [string, string[]] => {
  const cli = join(root, 'src/cli.ts');
  const runner = runtime === 'deno' ? ['deno', 'run', '-A', '--quiet', cli] : [process.execPath, cli];
  return ['unshare', [...userns(), '--pid', '--fork', '--mount-proc', ...runner]];
};
const userns = () => (process.getuid?.() === 0 ? [] : ['--user', '--map-root-user']);

describe(`repository lock (CLI under ${runtime})`, () => {
  beforeAll(async () => {
    await ensureNamespace(client, ns);
    await createMany(client, `/api/v1/namespaces/${ns}/configmaps`, [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a' }, data: { v: '1' } }]);
  });

  it('PID 1 in a restarted container takes over the lock its previous incarnation (also PID 1) left', async () => {
    const dir = tempDir('pid1');
    const file = config(dir);
    expect((await runCli(['sync', '--config', file])).code).toBe(0);
    // What a killed PID 1 on this pod leaves, as the issue reproduced it: "1 <hostname>", written just now.
    const lock = join(dir, 'repo', '.git', 'kubetrail.lock');
    writeFileSync(lock, `1 ${hostname()}\n`);
    utimesSync(lock, new Date(), new Date());
    expect(execFileSync('unshare', [...userns(), '--pid', '--fork', '--mount-proc', 'sh', '-c', 'echo $$'], { encoding: 'utf8' }).trim()).toBe('1');
    kubectl(['-n', ns, 'patch', 'configmap', 'a', '-p', '{"data":{"v":"2"}}']);
    const started = Date.now();
    // Its heartbeat never moves: stale after KUBETRAIL_LOCK_STALE_SECONDS (30 by default; 4 to keep the test short).
    const res = await runCli(['sync', '--config', file, '--lock-wait', '20'], { command: asPid1(), env: { KUBETRAIL_LOCK_STALE_SECONDS: '4' } });
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(Date.now() - started).toBeGreaterThanOrEqual(4000);
    expect(git(join(dir, 'repo'), ['show', 'HEAD:clusters/locked/core.v1.ConfigMap/' + ns + '/a.yaml'])).toContain('v: "2"');
    expect(existsSync(lock)).toBe(false);
  });

  it('a live run\'s lock on this host (same PID namespace) is not taken: the run waits, then fails naming it', async () => {
    const dir = tempDir('held');
    const file = config(dir);
    expect((await runCli(['sync', '--config', file])).code).toBe(0);
    const held = await lockRepo(join(dir, 'repo', '.git'), { staleMs: 2000 });
    try {
      const res = await runCli(['sync', '--config', file, '--lock-wait', '5'], { env: { KUBETRAIL_LOCK_STALE_SECONDS: '2' } });
      expect(res.code).toBe(1);
      expect(res.stderr).toMatch(new RegExp(`locked by another kubetrail run \\(pid ${process.pid} on ${hostname()} since `));
    } finally {
      await held.release();
    }
  });

  it('a dry run beside a real run changes nothing: no pending checkout finished, no temp pack removed', async () => {
    const dir = tempDir('dry');
    const file = config(dir);
    expect((await runCli(['sync', '--config', file])).code).toBe(0);
    const repo = join(dir, 'repo');
    kubectl(['-n', ns, 'patch', 'configmap', 'a', '-p', '{"data":{"v":"3"}}']);
    // A real run in progress: it holds the lock, is writing a pack, and has a checkout to finish.
    const held = await lockRepo(join(repo, '.git'));
    try {
      writeFileSync(join(repo, '.git', 'objects', 'pack', `tmp_pack_kubetrail_${process.pid + 1}_${Date.now()}_abcdef`), 'PACK in progress');
      writeFileSync(join(repo, '.git', 'kubetrail-checkout-pending'), 'clusters/locked\n');
      writeFileSync(join(repo, 'clusters/locked/core.v1.ConfigMap', ns, 'a.yaml'), 'being written\n');
      const before = snapshot(repo);
      const res = await runCli(['sync', '--config', file, '--dry-run', '--lock-wait', '0']);
      expect(res.stderr).toBe('');
      expect(res.code).toBe(0);
      expect(res.stdout).toMatch(/~1/); // it did see the change
      expect(snapshot(repo)).toEqual(before);
    } finally {
      await held.release();
    }
  });

  it('a dry run with no repository yet creates none', async () => {
    const dir = tempDir('dry-new');
    const repo = join(dir, 'not-yet');
    const res = await runCli(['sync', '--config', config(dir, repo), '--dry-run']);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/\+1/);
    expect(existsSync(repo)).toBe(false);
  });
});
