// The test ground itself: a real apiserver with RBAC and aggregation, and a real smart-HTTP git remote.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { join } from 'node:path';
import git from 'isomorphic-git';
import http from 'isomorphic-git/http/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKubeClient } from '../../src/kube/client.ts';
import { resolveAccess } from '../../src/kube/access.ts';
import { startGitServer, type GitServer } from '../env/git-server.ts';
import { adminClient, git as gitCli, tempDir, testenv } from '../helpers/testenv.ts';

export const crd = (group: string, kind: string, plural: string) => ({
  apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition',
  metadata: { name: `${plural}.${group}` },
  spec: {
    group, scope: 'Namespaced', names: { kind, plural, singular: kind.toLowerCase(), listKind: `${kind}List` },
    versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } }],
  },
});

describe('test Kubernetes API server', () => {
  const client = adminClient();

  it('reports the Kubernetes version it was built from, as discovery and kubectl see it', async () => {
    const gomod = fs.readFileSync(join(new URL('../env/go/apiserver/go.mod', import.meta.url).pathname), 'utf8');
    const built = gomod.match(/^require k8s\.io\/kubernetes (v\S+)$/m)![1];
    const version = await client.getJSON<{ gitVersion: string; major: string; minor: string }>('/version');
    expect(version.gitVersion).toBe(built);
    expect(`v${version.major}.${version.minor}`).toBe(built.split('.').slice(0, 2).join('.'));
    const kubectlVersion = JSON.parse(execFileSync('kubectl', ['--kubeconfig', testenv().KUBECONFIG, 'version', '-o', 'json'], { encoding: 'utf8' }));
    expect(kubectlVersion.serverVersion.gitVersion).toBe(built);
  });

  it('creates and lists a Namespace, a ConfigMap and a custom resource through raw HTTP', async () => {
    await client.sendJSON('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'env-check' } });
    await client.sendJSON('POST', '/api/v1/namespaces/env-check/configmaps', {
      apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'hello' }, data: { greeting: 'hi' },
    });
    await client.sendJSON('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', crd('envcheck.example.com', 'Gadget', 'gadgets'));
    // The CRD's REST endpoint appears once the apiserver's own controller marks it Established.
    for (let i = 0; i < 100; i++) {
      const res = await client.request('/apis/envcheck.example.com/v1/gadgets');
      if (res.status === 200) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    await client.sendJSON('POST', '/apis/envcheck.example.com/v1/namespaces/env-check/gadgets', {
      apiVersion: 'envcheck.example.com/v1', kind: 'Gadget', metadata: { name: 'g1' }, spec: { size: 3, unknownField: { kept: true } },
    });

    const cms = await client.getJSON<{ items: { metadata: { name: string }; data: Record<string, string> }[] }>('/api/v1/namespaces/env-check/configmaps');
    expect(cms.items.find((c) => c.metadata.name === 'hello')?.data).toEqual({ greeting: 'hi' });
    const gadgets = await client.getJSON<{ items: { spec: unknown }[] }>('/apis/envcheck.example.com/v1/gadgets');
    expect(gadgets.items.map((g) => g.spec)).toEqual([{ size: 3, unknownField: { kept: true } }]);
  });

  it('denies a user without RBAC rights (403 on Secrets)', async () => {
    const nobody = createKubeClient('nobody', resolveAccess({
      id: 'nobody', connection: { server: testenv().APISERVER_URL, token: testenv().NOBODY_TOKEN,
        caData: fs.readFileSync(testenv().CA_FILE).toString('base64'), skipTLSVerify: false },
    } as never));
    const res = await nobody.request('/api/v1/secrets');
    expect(res.status).toBe(403);
  });

  it('shows an APIService whose Service is missing as unavailable', async () => {
    await client.sendJSON('POST', '/apis/apiregistration.k8s.io/v1/apiservices', {
      apiVersion: 'apiregistration.k8s.io/v1', kind: 'APIService', metadata: { name: 'v1.envbroken.example.com' },
      spec: { group: 'envbroken.example.com', version: 'v1', service: { namespace: 'default', name: 'missing' },
        groupPriorityMinimum: 100, versionPriority: 10, insecureSkipTLSVerify: true },
    });
    let available: { status: string; reason?: string } | undefined;
    for (let i = 0; i < 100 && available?.status !== 'False'; i++) {
      const svc = await client.getJSON<{ status?: { conditions?: { type: string; status: string; reason?: string }[] } }>(
        '/apis/apiregistration.k8s.io/v1/apiservices/v1.envbroken.example.com');
      available = svc.status?.conditions?.find((c) => c.type === 'Available');
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(available).toMatchObject({ status: 'False', reason: 'ServiceNotFound' });
    // Aggregated discovery does not list the broken group as a healthy one.
    const agg = await client.request('/apis', { accept: 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList' });
    const group = (JSON.parse(agg.body.toString()).items as { metadata: { name: string }; versions: { freshness?: string }[] }[])
      .find((g) => g.metadata.name === 'envbroken.example.com');
    expect(group === undefined || group.versions.every((v) => v.freshness === 'Stale')).toBe(true);
    await client.sendJSON('DELETE', '/apis/apiregistration.k8s.io/v1/apiservices/v1.envbroken.example.com');
  });
});

describe('test git smart-HTTP server', () => {
  let server: GitServer;
  const token = 'test-token-123';
  beforeAll(async () => {
    server = await startGitServer({ root: tempDir('remotes'), token });
  });
  afterAll(() => server.close());

  it('accepts a push with the token from the git CLI and from isomorphic-git; clones back clean', async () => {
    const remote = server.createBareRepo('envcheck.git');
    const work = tempDir('work');
    gitCli(work, ['init', '-q', '-b', 'main']);
    fs.writeFileSync(join(work, 'a.txt'), 'one\n');
    gitCli(work, ['add', '.']);
    gitCli(work, ['-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qm', 'one']);
    const authed = server.repoUrl('envcheck.git').replace('http://', `http://x-access-token:${token}@`);
    gitCli(work, ['push', '-q', authed, 'main']);

    fs.writeFileSync(join(work, 'b.txt'), 'two\n');
    await git.add({ fs, dir: work, filepath: 'b.txt' });
    await git.commit({ fs, dir: work, message: 'two', author: { name: 't', email: 't@t' } });
    const pushed = await git.push({ fs, http, dir: work, url: server.repoUrl('envcheck.git'), ref: 'main',
      onAuth: () => ({ username: 'x-access-token', password: token }) });
    expect(pushed.ok).toBe(true);

    const clone = tempDir('clone');
    gitCli(clone, ['clone', '-q', authed, 'repo']);
    expect(gitCli(join(clone, 'repo'), ['log', '--format=%s'])).toBe('two\none\n');
    expect(gitCli(remote, ['fsck', '--strict'])).toBe('');
  });

  it('refuses a push without the token', async () => {
    server.createBareRepo('locked.git');
    const work = tempDir('work');
    gitCli(work, ['init', '-q', '-b', 'main']);
    gitCli(work, ['-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '--allow-empty', '-m', 'x']);
    expect(() => execFileSync('git', ['-C', work, 'push', server.repoUrl('locked.git'), 'main'],
      { stdio: 'pipe', env: { ...process.env, GIT_TERMINAL_PROMPT: '0' } })).toThrow(/401|Authentication failed|could not read Username/);
    await expect(git.push({ fs, http, dir: work, url: server.repoUrl('locked.git'), ref: 'main' })).rejects.toThrow(/401/);
  });
});
