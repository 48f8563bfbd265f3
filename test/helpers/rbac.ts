// Real identities on the test apiserver: ServiceAccounts with TokenRequest tokens, client certificates.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KubeClient } from '../../src/kube/client.ts';
import { tempDir, testenv } from './testenv.ts';

async function ensure(client: KubeClient, collection: string, obj: { metadata: { name: string } }): Promise<void> {
  const res = await client.request(collection, { method: 'POST', body: obj });
  if (res.status === 409) await client.sendJSON('PUT', `${collection}/${obj.metadata.name}`, obj);
  else if (res.status >= 300) throw new Error(`POST ${collection}: ${res.status} ${res.body}`);
}

export async function ensureNamespace(client: KubeClient, name: string): Promise<void> {
  const res = await client.request('/api/v1/namespaces', { method: 'POST', body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name } } });
  if (res.status !== 201 && res.status !== 409) throw new Error(`namespace ${name}: ${res.status}`);
}

/** A ServiceAccount bound to a ClusterRole with `rules`; returns a real TokenRequest token. */
export async function serviceAccountToken(
  client: KubeClient, ns: string, name: string, rules: unknown[],
): Promise<string> {
  await ensureNamespace(client, ns);
  await ensure(client, `/api/v1/namespaces/${ns}/serviceaccounts`, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name } } as never);
  await ensure(client, '/apis/rbac.authorization.k8s.io/v1/clusterroles',
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: `${ns}-${name}` }, rules } as never);
  await ensure(client, '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', {
    apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: `${ns}-${name}` },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: `${ns}-${name}` },
    subjects: [{ kind: 'ServiceAccount', name, namespace: ns }],
  } as never);
  const tr = await client.sendJSON<{ status: { token: string } }>('POST', `/api/v1/namespaces/${ns}/serviceaccounts/${name}/token`, {
    apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 3600 },
  });
  return tr.status.token;
}

/** A client certificate for `user` in `group`, signed by the apiserver's client CA. Returns base64 PEM. */
export function clientCertificate(user: string, group: string): { certData: string; keyData: string } {
  const dir = tempDir('cert');
  const { CA_FILE, CA_KEY_FILE } = testenv();
  const run = (args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  run(['req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/O=${group}/CN=${user}`, '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.csr')]);
  writeFileSync(join(dir, 'ext'), 'extendedKeyUsage=clientAuth\n');
  run(['x509', '-req', '-in', join(dir, 'c.csr'), '-CA', CA_FILE, '-CAkey', CA_KEY_FILE, '-CAcreateserial', '-days', '1',
    '-extfile', join(dir, 'ext'), '-out', join(dir, 'c.pem')]);
  const b64 = (f: string) => readFileSync(join(dir, f)).toString('base64');
  return { certData: b64('c.pem'), keyData: b64('k.pem') };
}

/** A kubeconfig text for `server` with the test CA and the given user credentials. */
export function kubeconfigFor(contexts: { name: string; token: string }[], current: string): string {
  const ca = readFileSync(testenv().CA_FILE).toString('base64');
  return [
    'apiVersion: v1', 'kind: Config',
    'clusters:', '- name: testenv', '  cluster:', `    server: ${testenv().APISERVER_URL}`, `    certificate-authority-data: ${ca}`,
    'users:', ...contexts.flatMap((c) => [`- name: ${c.name}`, '  user:', `    token: ${c.token}`]),
    'contexts:', ...contexts.flatMap((c) => [`- name: ${c.name}`, '  context:', '    cluster: testenv', `    user: ${c.name}`]),
    `current-context: ${current}`, '',
  ].join('\n');
}
