// Every way of reaching a cluster, proven against the real apiserver by asking it who we are (SelfSubjectReview).
import { mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../../src/config/validate.ts';
import { resolveAccess } from '../../src/kube/access.ts';
import { createKubeClient } from '../../src/kube/client.ts';
import { clientCertificate, kubeconfigFor, serviceAccountToken } from '../helpers/rbac.ts';
import { adminClient, tempDir, testenv } from '../helpers/testenv.ts';

/** Established TCP connections of this process to the server's port (Linux: its socket fds in /proc/net/tcp). */
function connectionsTo(url: string): number {
  const inodes = new Set(readdirSync('/proc/self/fd').map((fd) => {
    try {
      return /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/self/fd/${fd}`))?.[1];
    } catch {
      return undefined; // closed meanwhile
    }
  }).filter(Boolean));
  const port = Number(new URL(url).port).toString(16).toUpperCase().padStart(4, '0');
  return readFileSync('/proc/self/net/tcp', 'utf8').split('\n').slice(1).filter((line) => {
    const f = line.trim().split(/\s+/);
    return f.length > 9 && f[2].endsWith(`:${port}`) && f[3] === '01' && inodes.has(f[9]); // 01: ESTABLISHED
  }).length;
}

type Env = Record<string, string | undefined>;

function clientFor(cluster: Record<string, unknown>, env: Env = {}) {
  const config = validateConfig({ clusters: [{ id: 'access-test', ...cluster }] }, env);
  return createKubeClient('access-test', resolveAccess(config.clusters[0], { HOME: tempDir('home'), ...env }));
}

async function whoami(cluster: Record<string, unknown>, env: Env = {}): Promise<string> {
  const review = await clientFor(cluster, env).sendJSON<{ status: { userInfo: { username: string } } }>(
    'POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' });
  return review.status.userInfo.username;
}

async function failure(cluster: Record<string, unknown>, env: Env = {}): Promise<string> {
  try {
    await clientFor(cluster, env).getJSON('/api/v1/namespaces', { retries: 0 });
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected the request to fail');
}

const readOnlyRules = [{ apiGroups: ['*'], resources: ['configmaps', 'namespaces', 'deployments'], verbs: ['get', 'list'] }];

describe('auth methods', () => {
  const env = testenv();
  const caData = () => readFileSync(env.CA_FILE).toString('base64');
  let saToken = '';
  beforeAll(async () => {
    saToken = await serviceAccountToken(adminClient(), 'access-test', 'reader', readOnlyRules);
  });

  it('in-cluster: a real TokenRequest token and CA files, host/port from KUBERNETES_SERVICE_*', async () => {
    const dir = tempDir('sa');
    writeFileSync(join(dir, 'token'), saToken);
    writeFileSync(join(dir, 'ca.crt'), readFileSync(env.CA_FILE));
    const url = new URL(env.APISERVER_URL);
    const serviceEnv = { KUBERNETES_SERVICE_HOST: url.hostname, KUBERNETES_SERVICE_PORT: url.port };
    const cluster = { inCluster: { tokenFile: join(dir, 'token'), caFile: join(dir, 'ca.crt') } };
    expect(await whoami(cluster, serviceEnv)).toBe('system:serviceaccount:access-test:reader');
    const client = clientFor(cluster, serviceEnv);
    expect((await client.request('/api/v1/configmaps')).status).toBe(200);
    expect((await client.request('/api/v1/secrets')).status).toBe(403);
  });

  it('connection: client certificate signed by the cluster CA', async () => {
    const cert = clientCertificate('cert-user', 'system:masters');
    expect(await whoami({ connection: { server: env.APISERVER_URL, caData: caData(), ...cert } })).toBe('cert-user');
  });

  it('connection: bearer token from an environment variable', async () => {
    expect(await whoami({ connection: { server: env.APISERVER_URL, caData: caData(), tokenEnv: 'MY_TOKEN' } }, { MY_TOKEN: env.ADMIN_TOKEN })).toBe('admin');
  });

  it('kubeconfig content inline, and from KUBECONFIG_CONTENT_<ID> as plain YAML and as base64', async () => {
    const text = kubeconfigFor([{ name: 'sa', token: saToken }], 'sa');
    expect(await whoami({ kubeconfigContent: text })).toBe('system:serviceaccount:access-test:reader');
    expect(await whoami({}, { KUBECONFIG_CONTENT_ACCESS_TEST: text })).toBe('system:serviceaccount:access-test:reader');
    expect(await whoami({}, { KUBECONFIG_CONTENT_ACCESS_TEST: Buffer.from(text).toString('base64') })).toBe('system:serviceaccount:access-test:reader');
  });

  it('kubeconfig path from KUBECONFIG_<ID> with ~ and $VAR expansion', async () => {
    const home = tempDir('home');
    mkdirSync(join(home, 'kube'));
    writeFileSync(join(home, 'kube', 'cfg'), kubeconfigFor([{ name: 'sa', token: saToken }], 'sa'));
    expect(await whoami({}, { HOME: home, KUBECONFIG_ACCESS_TEST: '~/kube/cfg' })).toBe('system:serviceaccount:access-test:reader');
    expect(await whoami({ kubeconfig: '${DIR}/kube/cfg' }, { HOME: home, DIR: home })).toBe('system:serviceaccount:access-test:reader');
  });

  it('context selects a context of the kubeconfig', async () => {
    const text = kubeconfigFor([{ name: 'nobody', token: env.NOBODY_TOKEN }, { name: 'admin', token: env.ADMIN_TOKEN }], 'nobody');
    expect(await whoami({ kubeconfigContent: text })).toBe('nobody');
    expect(await whoami({ kubeconfigContent: text, context: 'admin' })).toBe('admin');
    await expect(whoami({ kubeconfigContent: text, context: 'missing' })).rejects.toThrow(/context "missing" not found .*contexts: nobody, admin/);
  });

  it('exec plugin: a client certificate it rotates is used once the old one expires', async () => {
    const dir = tempDir('exec');
    for (const n of [1, 2]) {
      const cert = clientCertificate(`exec-user-${n}`, 'system:masters');
      writeFileSync(join(dir, `cert-${n}`), Buffer.from(cert.certData, 'base64'));
      writeFileSync(join(dir, `key-${n}`), Buffer.from(cert.keyData, 'base64'));
    }
    // Each run hands out the next certificate, valid for one second (as far as the client is told).
    writeFileSync(join(dir, 'plugin.mjs'), `import { readFileSync, writeFileSync, existsSync } from 'node:fs';
      const n = existsSync('${dir}/runs') ? Number(readFileSync('${dir}/runs', 'utf8')) + 1 : 1;
      writeFileSync('${dir}/runs', String(n));
      console.log(JSON.stringify({ apiVersion: 'client.authentication.k8s.io/v1', kind: 'ExecCredential', status: {
        clientCertificateData: readFileSync('${dir}/cert-' + n, 'utf8'), clientKeyData: readFileSync('${dir}/key-' + n, 'utf8'),
        expirationTimestamp: new Date(Date.now() + 1000).toISOString() } }));`);
    const text = [
      'apiVersion: v1', 'kind: Config', 'current-context: exec',
      'clusters:', '- name: t', '  cluster:', `    server: ${env.APISERVER_URL}`, `    certificate-authority-data: ${caData()}`,
      'users:', '- name: exec', '  user:', '    exec:', '      apiVersion: client.authentication.k8s.io/v1',
      `      command: ${process.execPath}`, `      args: [${join(dir, 'plugin.mjs')}]`, '      interactiveMode: Never',
      'contexts:', '- name: exec', '  context: {cluster: t, user: exec}', '',
    ].join('\n');
    const client = clientFor({ kubeconfigContent: text });
    const review = async () => (await client.sendJSON<{ status: { userInfo: { username: string } } }>('POST',
      '/apis/authentication.k8s.io/v1/selfsubjectreviews', { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' })).status.userInfo.username;
    const before = connectionsTo(env.APISERVER_URL);
    expect(await review()).toBe('exec-user-1');
    expect(connectionsTo(env.APISERVER_URL)).toBe(before + 1);
    await new Promise((r) => setTimeout(r, 1500));
    expect(await review()).toBe('exec-user-2');
    // The retired certificate's keep-alive connection is closed, not kept open for the life of the process.
    expect(connectionsTo(env.APISERVER_URL)).toBe(before + 1);
  });

  it('default kubeconfig: $KUBECONFIG, then ~/.kube/config', async () => {
    expect(await whoami({}, { KUBECONFIG: env.KUBECONFIG })).toBe('admin');
    const home = tempDir('home');
    mkdirSync(join(home, '.kube'));
    writeFileSync(join(home, '.kube', 'config'), readFileSync(env.KUBECONFIG));
    expect(await whoami({}, { HOME: home })).toBe('admin');
  });

  it('explicit settings win over environment variables, in priority order', async () => {
    const text = kubeconfigFor([{ name: 'sa', token: saToken }], 'sa');
    // connection beats KUBECONFIG_CONTENT_<ID>; KUBECONFIG_CONTENT_<ID> beats KUBECONFIG_<ID> and the default
    expect(await whoami({ connection: { server: env.APISERVER_URL, caData: caData(), tokenEnv: 'T' } },
      { T: env.ADMIN_TOKEN, KUBECONFIG_CONTENT_ACCESS_TEST: text })).toBe('admin');
    expect(await whoami({}, { KUBECONFIG_CONTENT_ACCESS_TEST: text, KUBECONFIG_ACCESS_TEST: env.KUBECONFIG, KUBECONFIG: env.KUBECONFIG }))
      .toBe('system:serviceaccount:access-test:reader');
  });
});

describe('access errors are one line naming the cluster and the cause', () => {
  const env = testenv();

  it('no kubeconfig anywhere', () => {
    const home = tempDir('empty-home');
    expect(() => clientFor({}, { HOME: home })).toThrow(`cluster access-test: no kubeconfig found (looked at ${home}/.kube/config)`);
  });

  it('unreachable server', async () => {
    expect(await failure({ connection: { server: 'https://127.0.0.1:1', tokenEnv: 'T' } }, { T: 'x' }))
      .toMatch(/^cannot reach https:\/\/127\.0\.0\.1:1 \(ECONNREFUSED\)$/);
  });

  it('a CA that did not sign the server certificate', async () => {
    const other = Buffer.from(readFileSync(join(env.dir, 'pki', 'server.crt'))).toString('base64'); // not a CA
    expect(await failure({ connection: { server: env.APISERVER_URL, caData: other, tokenEnv: 'T' } }, { T: env.ADMIN_TOKEN }))
      .toMatch(/^TLS verification of https:\/\/127\.0\.0\.1:\d+ failed \(\w+\): check the CA$/);
  });

  it('rejected credentials (401)', async () => {
    const caData = readFileSync(env.CA_FILE).toString('base64');
    expect(await failure({ connection: { server: env.APISERVER_URL, caData, tokenEnv: 'T' } }, { T: 'wrong' }))
      .toMatch(/^unauthorized \(401\): https:\/\/127\.0\.0\.1:\d+ rejected the credentials$/);
  });
});
