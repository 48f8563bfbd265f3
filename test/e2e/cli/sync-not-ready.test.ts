// A recorded type gone from discovery while the apiserver says it is not ready is kept, not recorded as deleted:
// an apiserver that has just started serves discovery before its CRDs are back. Shown on a real kube-apiserver of
// its own in graceful shutdown (--shutdown-delay-duration: it serves every request but /readyz fails), with the
// CRD deleted: kept and reported while not ready, dropped by the next sync once it is. CLI under Node and Deno.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readEnvFile } from '../../env/global-setup.ts';
import { crdManifest } from '../../helpers/objects.ts';
import { git, root, runCli, runtime, tempDir } from '../../helpers/testenv.ts';
import { waitFor } from '../../helpers/wait.ts';

const id = `not-ready-${runtime}`;
const ns = 'gadgets';

describe(`sync while the apiserver is not ready (CLI under ${runtime})`, () => {
  const dir = tempDir('not-ready');
  const envDir = join(dir, 'apiserver');
  const repo = join(dir, 'repo');
  const config = join(dir, 'kubetrail.yaml');
  const gadgets = `clusters/${id}/notready.example.com.v1.Gadget/${ns}`;
  let env: Record<string, string> = {};
  const kubectl = (args: string[], input?: string) =>
    execFileSync('kubectl', ['--kubeconfig', env.KUBECONFIG, ...args], { input, encoding: 'utf8', stdio: 'pipe' });
  const readyz = () => {
    try {
      execFileSync('curl', ['-sf', '--cacert', env.CA_FILE, '-H', `Authorization: Bearer ${env.ADMIN_TOKEN}`, `${env.APISERVER_URL}/readyz`], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  };
  const recorded = () => git(repo, ['ls-tree', '-r', '--name-only', 'HEAD', gadgets]).split('\n').filter(Boolean);

  beforeAll(async () => {
    mkdirSync(envDir, { recursive: true });
    execFileSync('bash', [join(root, 'test/env/up.sh'), envDir], {
      stdio: ['ignore', 'ignore', 'pipe'], timeout: 10 * 60_000,
      env: { ...process.env, TESTENV_APISERVER_ARGS: '--shutdown-delay-duration=40s' },
    });
    env = readEnvFile(join(envDir, 'env'));
    kubectl(['create', 'namespace', ns]);
    kubectl(['apply', '-f', '-'], JSON.stringify(crdManifest('notready.example.com', 'Gadget', 'gadgets')));
    kubectl(['wait', '--for=condition=Established', '--timeout=120s', 'crd/gadgets.notready.example.com']);
    await waitFor('gadgets served', () => { try { return kubectl(['get', 'gadgets', '-n', ns]) !== undefined; } catch { return false; } }, 120_000);
    kubectl(['apply', '-f', '-'], ['g1', 'g2'].map((n) => `apiVersion: notready.example.com/v1\nkind: Gadget\nmetadata: {name: ${n}, namespace: ${ns}}\nspec: {size: 1}\n`).join('---\n'));
    writeFileSync(config, [`repo: ${repo}`, 'clusters:', `  - id: ${id}`, `    kubeconfig: ${env.KUBECONFIG}`, `    namespaces: [${ns}]`].join('\n'));
  }, 15 * 60_000);
  afterAll(() => {
    execFileSync('bash', [join(root, 'test/env/down.sh'), envDir], { stdio: 'ignore' });
  });

  it('keeps the vanished type as recorded and names it while /readyz fails; the next sync once ready drops it', async () => {
    const first = await runCli(['sync', '--config', config]);
    expect(first.code, first.stderr).toBe(0);
    expect(recorded()).toEqual([`${gadgets}/g1.yaml`, `${gadgets}/g2.yaml`]);

    kubectl(['delete', 'crd', 'gadgets.notready.example.com', '--wait=true']);
    await waitFor('the type gone from discovery', () => !kubectl(['api-resources', '--api-group=notready.example.com']).includes('gadgets'), 60_000);
    // Graceful shutdown: for 40 s every request is served as before, but /readyz fails.
    const pid = Number(readFileSync(join(envDir, 'kube-apiserver.pid'), 'utf8'));
    process.kill(pid, 'SIGTERM');
    await waitFor('/readyz failing', () => !readyz(), 20_000);
    const notReady = await runCli(['sync', '--config', config]);
    expect(notReady.code, notReady.stderr).toBe(3); // partial: a type could not be read as it is
    expect(notReady.stderr + notReady.stdout).toMatch(/notready\.example\.com\.v1\.Gadget.*not in discovery while the apiserver is not ready \(GET \/readyz: 5\d\d\)/);
    expect(readyz()).toBe(false); // still in the shutdown delay: the sync ran while not ready
    expect(recorded()).toEqual([`${gadgets}/g1.yaml`, `${gadgets}/g2.yaml`]);
    expect(git(repo, ['log', '-1', '--format=%B'])).toMatch(/Kubetrail-Failed-Types: notready\.example\.com\.v1\.Gadget/);

    await waitFor('the apiserver gone', () => { try { process.kill(pid, 0); return false; } catch { return true; } }, 90_000);
    execFileSync('bash', [join(root, 'test/env/apiserver.sh'), 'start', envDir], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 5 * 60_000 });
    const ready = await runCli(['sync', '--config', config]);
    expect(ready.code, ready.stderr).toBe(0);
    expect(recorded()).toEqual([]);
    expect(git(repo, ['log', '-1', '--format=%s'])).toBe(`${id}: +0 ~0 -2\n`);
    git(repo, ['fsck', '--strict']);
  }, 10 * 60_000);
});
