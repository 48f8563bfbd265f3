// Who, not just which tool: a kube-apiserver of its own, started with the shipped audit policy and a webhook
// pointing at `kubetrail serve`; two users (two tokens) change two objects and each commit names each user for
// their own object, and nobody for an object changed while kubetrail was not listening. CLI under Node and Deno.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readEnvFile } from '../../env/global-setup.ts';
import { startServe } from '../../helpers/serve.ts';
import { git, root, runtime, tempDir } from '../../helpers/testenv.ts';

const id = `audit-${runtime}`;
const ns = 'audited';
const auditToken = 'audit-token-0123456789';
const apiToken = 'api-token-0123456789';

const freePort = () => new Promise<number>((resolve, reject) => {
  const s = createServer().listen(0, '127.0.0.1', () => {
    const { port } = s.address() as { port: number };
    s.close(() => resolve(port));
  }).on('error', reject);
});
/** One HTTPS request to kubetrail, trusting the test's CA. */
function request(method: string, path: string, headers: Record<string, string>, body?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port: currentPort, path, method, headers, ca: readFileSync(caFile) }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d)).on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}
let currentPort = 0;
let caFile = '';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe(`attribution from the audit webhook (CLI under ${runtime})`, () => {
  const dir = tempDir('audit');
  const envDir = join(dir, 'apiserver');
  const repo = join(dir, 'repo');
  let kubeconfig = '';
  let port = 0;
  let serve: ReturnType<typeof startServe> | undefined;
  const as = (user: 'alice' | 'bob' | 'admin', args: string[]) =>
    execFileSync('kubectl', ['--kubeconfig', kubeconfig, ...(user === 'admin' ? [] : ['--token', `${user}-token`]), ...args], { encoding: 'utf8', stdio: 'pipe' });
  const startKubetrail = async () => {
    serve = startServe(['--config', join(dir, 'kubetrail.yaml'), '--port', String(port)], { KUBETRAIL_API_TOKEN: apiToken, KUBETRAIL_AUDIT_TOKEN: auditToken });
    await serve.port;
  };
  const stopKubetrail = async () => {
    await serve?.stop();
    serve = undefined;
  };
  const trigger = async () => {
    const res = await request('POST', `/api/v1/clusters/${id}/sync`, { Authorization: `Bearer ${apiToken}` });
    expect(res.status).toBe(200);
    return JSON.parse(res.body) as { commit?: string; status: string };
  };

  beforeAll(async () => {
    port = currentPort = await freePort();
    caFile = join(dir, 'ca.crt');
    execFileSync('mkdir', ['-p', envDir]);
    // kubetrail serves HTTPS: client-go sends the webhook kubeconfig's token only over TLS.
    const tls = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
    tls(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=kubetrail-test-ca', '-keyout', 'ca.key', '-out', 'ca.crt']);
    tls(['req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=kubetrail', '-keyout', 'tls.key', '-out', 'tls.csr']);
    writeFileSync(join(dir, 'tls.ext'), 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
    tls(['x509', '-req', '-in', 'tls.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '1', '-extfile', 'tls.ext', '-out', 'tls.crt']);
    // Two more users: alice and bob may write (system:masters keeps the test about attribution, not RBAC).
    writeFileSync(join(envDir, 'extra-tokens.csv'), 'alice-token,alice,alice-uid,"system:masters"\nbob-token,bob,bob-uid,"system:masters"\n');
    const webhook = readFileSync(join(root, 'config/audit/webhook.kubeconfig'), 'utf8')
      .replaceAll('KUBETRAIL_URL', `https://127.0.0.1:${port}`).replaceAll('CLUSTER_ID', id).replaceAll('AUDIT_TOKEN', auditToken)
      .replace('/etc/kubernetes/kubetrail/ca.crt', join(dir, 'ca.crt'));
    writeFileSync(join(dir, 'webhook.kubeconfig'), webhook);
    // Batches leave within a second; a delivery that fails is retried for about a second and then dropped, as a
    // short outage of kubetrail would lose them.
    const args = [`--audit-policy-file=${join(root, 'config/audit/policy.yaml')}`, `--audit-webhook-config-file=${join(dir, 'webhook.kubeconfig')}`,
      '--audit-webhook-batch-max-wait=500ms', '--audit-webhook-initial-backoff=100ms'];
    execFileSync('bash', [join(root, 'test/env/up.sh'), envDir], { env: { ...process.env, TESTENV_APISERVER_ARGS: args.join(' ') }, stdio: ['ignore', 'ignore', 'pipe'], timeout: 10 * 60_000 });
    kubeconfig = readEnvFile(join(envDir, 'env')).KUBECONFIG;
    writeFileSync(join(dir, 'kubetrail.yaml'), [`repo: ${repo}`, 'api:', `  tlsCertFile: ${join(dir, 'tls.crt')}`, `  tlsKeyFile: ${join(dir, 'tls.key')}`, 'clusters:', `  - id: ${id}`, `    kubeconfig: ${kubeconfig}`,
      `    namespaces: [${ns}]`, '    select: [core.v1.ConfigMap, apps.v1.Deployment]'].join('\n'));
    as('admin', ['create', 'namespace', ns]);
    for (const name of ['for-alice', 'for-bob', 'while-away']) as('admin', ['create', 'configmap', name, '-n', ns, '--from-literal=value=1']);
    // managedFields times are whole seconds, and a write in the second of a read counts as possibly after it: the
    // first read must come a second later, or the creates are named again with the patches (seen under Deno).
    await sleep(1100);
    await startKubetrail();
    expect((await trigger()).status).toBe('complete');
  }, 15 * 60_000);

  afterAll(async () => {
    await stopKubetrail();
    execFileSync('bash', [join(root, 'test/env/down.sh'), envDir]);
  });

  it('refuses audit events without the webhook token, and a body that is not an EventList', async () => {
    const post = (headers: Record<string, string>, body: string) =>
      request('POST', `/api/v1/audit/${id}`, { 'Content-Type': 'application/json', ...headers }, body);
    expect((await post({}, '{}')).status).toBe(401);
    expect((await post({ Authorization: `Bearer ${apiToken}` }, '{}')).status).toBe(401);
    const bad = await post({ Authorization: `Bearer ${auditToken}` }, '{"kind":"Pod"}');
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body)).toMatchObject({ error: { code: 'bad_event_list' } });
  });

  it('names each user for the write that produced the recorded version, and nobody for a change it did not hear', async () => {
    await stopKubetrail();
    as('admin', ['patch', 'configmap', 'while-away', '-n', ns, '-p', '{"data":{"value":"changed while kubetrail was down"}}']);
    await sleep(4000); // the apiserver gives up on that batch
    await startKubetrail();
    as('alice', ['patch', 'configmap', 'for-alice', '-n', ns, '-p', '{"data":{"value":"alice was here"}}']);
    as('bob', ['patch', 'configmap', 'for-bob', '-n', ns, '-p', '{"data":{"value":"bob was here"}}']);
    as('bob', ['create', 'deployment', 'made-by-bob', '-n', ns, '--image=nginx:1.27']);
    await sleep(3000); // batches leave every 500 ms
    const run = await trigger();
    expect(run.status).toBe('complete');
    const body = git(repo, ['log', '-1', '--format=%B']);
    expect(body).toContain(`${id}: +1 ~3 -0`);
    const changedBy = body.split('\n').filter((l) => l.startsWith('Kubetrail-Changed-By: '));
    expect(changedBy).toEqual([
      expect.stringMatching(/^Kubetrail-Changed-By: bob \(kubectl\/v[\d.]+\) apps\.v1\.Deployment audited\/made-by-bob$/),
      expect.stringMatching(/^Kubetrail-Changed-By: alice \(kubectl\/v[\d.]+\) core\.v1\.ConfigMap audited\/for-alice$/),
      expect.stringMatching(/^Kubetrail-Changed-By: bob \(kubectl\/v[\d.]+\) core\.v1\.ConfigMap audited\/for-bob$/),
    ]);
    expect(body).not.toMatch(/Changed-By: .*while-away/);
    // The managers from managedFields are there too, and the author is still kubetrail.
    expect(body).toContain(`  ~ ${ns}/for-alice.yaml  (kubectl-patch Update `);
    expect(git(repo, ['log', '-1', '--format=%an']).trim()).toBe('kubetrail');
  });

  it('names who deleted an object, matched by its uid', async () => {
    as('alice', ['delete', 'configmap', 'for-bob', '-n', ns]);
    await sleep(3000);
    expect((await trigger()).status).toBe('complete');
    const body = git(repo, ['log', '-1', '--format=%B']);
    expect(body).toContain(`  - ${ns}/for-bob.yaml  (unknown)`);
    expect(body).toMatch(/\nKubetrail-Changed-By: alice \(kubectl\/v[\d.]+\) core\.v1\.ConfigMap audited\/for-bob\n/);
  });
});
