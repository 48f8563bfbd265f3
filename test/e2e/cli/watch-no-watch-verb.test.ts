// `kubetrail watch` with an identity that may list ConfigMaps but not watch them (RBAC): the type falls back to a
// list every window, stderr says so once, and changes still become commits. Real apiserver, real RBAC.
import type { ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureNamespace, kubeconfigFor, serviceAccountToken } from '../../helpers/rbac.ts';
import { adminClient, apply, git, kubectl, runtime, spawnCli, tempDir } from '../../helpers/testenv.ts';
import { waitFor as waitUntil } from '../../helpers/wait.ts';

const ns = `watch-nowatch-${runtime}`;
const id = `nowatch-${runtime}`;
const client = adminClient();

describe(`kubetrail watch of a type it may not watch (CLI under ${runtime})`, () => {
  const dir = tempDir('watch-nowatch');
  const repo = join(dir, 'repo');
  let proc: ChildProcess;
  let stdout = '';
  let stderr = '';
  const base = `clusters/${id}/core.v1.ConfigMap/${ns}`;
  const filesAt = () => {
    try {
      return git(repo, ['ls-tree', '-r', '--name-only', 'HEAD', base]).split('\n').filter(Boolean);
    } catch {
      return []; // no commit yet: the namespace had no ConfigMap at the initial sync
    }
  };
  const waitFor = <T>(what: string, check: () => T | undefined | false, ms: number) =>
    waitUntil(what, check, ms, () => `\nstdout:\n${stdout}\nstderr:\n${stderr}`);

  beforeAll(async () => {
    await ensureNamespace(client, ns);
    const token = await serviceAccountToken(client, ns, 'lister', [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list'] }]);
    const kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(kubeconfig, kubeconfigFor([{ name: 'lister', token }], 'lister'));
    const config = join(dir, 'kubetrail.yaml');
    writeFileSync(config, [`repo: ${repo}`, 'clusters:', `  - id: ${id}`, `    kubeconfig: ${kubeconfig}`, `    namespaces: [${ns}]`, '    select: [core.v1.ConfigMap]'].join('\n'));
    proc = spawnCli(['watch', '--config', config, '--commit-interval', '2', '--discovery-interval', '30']);
    proc.stdout!.on('data', (c) => { stdout += c; });
    proc.stderr!.on('data', (c) => { stderr += c; });
    await waitFor('watching', () => stdout.includes(`${id}: watching 1 types`), 60_000);
  });

  afterAll(() => {
    if (proc.exitCode === null) proc.kill('SIGKILL');
  });

  it('lists the type every window instead, says so once, and records changes', async () => {
    await waitFor('the fallback said', () => /core\.v1\.ConfigMap cannot be watched/.test(stderr), 20_000);
    apply(`apiVersion: v1\nkind: ConfigMap\nmetadata: {name: listed, namespace: ${ns}}\ndata: {a: "1"}\n`);
    await waitFor('the ConfigMap recorded', () => filesAt().includes(`${base}/listed.yaml`), 20_000);
    kubectl(['delete', 'configmap', 'listed', '-n', ns]);
    await waitFor('the ConfigMap deleted', () => !filesAt().includes(`${base}/listed.yaml`), 20_000);
    expect(stderr.match(/cannot be watched/g)).toHaveLength(1);
    proc.kill('SIGTERM');
    expect(await new Promise((r) => proc.on('exit', r))).toBe(0);
  });
});
