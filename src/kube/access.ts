// Chooses how to reach a cluster (in priority order) and returns a client-node KubeConfig that applies the auth.
//   1. inCluster  2. connection  3. kubeconfigContent / $KUBECONFIG_CONTENT_<ID>  4. kubeconfig / $KUBECONFIG_<ID>
//   5. `context` picks a context of whichever kubeconfig was loaded  6. default kubeconfig ($KUBECONFIG, ~/.kube/config)
// With nothing configured, a pod's service account (KUBERNETES_SERVICE_HOST + token file) comes before the default.
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node/dist/config.js';
import type { ClusterConfig, InClusterAuth } from '../config/types.ts';
import { expandPath } from '../util/expand-path.ts';

type Env = Record<string, string | undefined>;

export interface Access {
  kubeConfig: KubeConfig;
  server: string;
  /** Where the credentials came from, for messages (never contains secrets). */
  source: string;
}

export class AccessError extends Error {
  constructor(clusterId: string, problem: string) {
    super(`cluster ${clusterId}: ${problem}`);
    this.name = 'AccessError';
  }
}

const SA_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/** `prod-us` → `PROD_US`, the suffix of `KUBECONFIG_<ID>` and `KUBECONFIG_CONTENT_<ID>`. */
export const envSuffix = (clusterId: string) => clusterId.toUpperCase().replaceAll('-', '_');

/** Kubeconfig content may be given as YAML or as base64 of it; base64 never contains `:` or newlines mid-text. */
export function decodeKubeconfigContent(content: string): string {
  const trimmed = content.trim();
  if (/^[A-Za-z0-9+/=\s]+$/.test(trimmed)) {
    const decoded = Buffer.from(trimmed.replace(/\s+/g, ''), 'base64').toString('utf8');
    if (/^\s*(apiVersion|kind|clusters|contexts|users|current-context|preferences)\s*:/m.test(decoded)) return decoded;
  }
  return content;
}

function inClusterConfig(auth: InClusterAuth, env: Env, clusterId: string): Access {
  const host = auth.host ?? env.KUBERNETES_SERVICE_HOST;
  const port = auth.port ?? env.KUBERNETES_SERVICE_PORT ?? '443';
  if (!host) throw new AccessError(clusterId, 'in-cluster auth needs KUBERNETES_SERVICE_HOST (not running in a pod?)');
  for (const file of [auth.tokenFile, auth.caFile]) {
    if (!existsSync(file)) throw new AccessError(clusterId, `in-cluster auth: ${file} does not exist`);
  }
  const server = `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const kc = new KubeConfig();
  // client-node re-reads the token file (projected tokens rotate) through its tokenFile auth provider.
  kc.loadFromClusterAndUser(
    { name: 'in-cluster', server, caFile: auth.caFile, skipTLSVerify: false },
    { name: 'service-account', authProvider: { name: 'tokenFile', config: { tokenFile: auth.tokenFile } } },
  );
  return { kubeConfig: kc, server, source: `in-cluster service account (${auth.tokenFile})` };
}

function selectContext(kc: KubeConfig, context: string | undefined, clusterId: string, from: string): void {
  if (context) {
    if (!kc.getContextObject(context)) {
      const known = kc.getContexts().map((c) => c.name).join(', ') || 'none';
      throw new AccessError(clusterId, `context "${context}" not found in ${from} (contexts: ${known})`);
    }
    kc.setCurrentContext(context);
  }
  if (!kc.getCurrentCluster()) throw new AccessError(clusterId, `${from} has no current context or cluster`);
}

function fromKubeconfig(kc: KubeConfig, cluster: ClusterConfig, from: string): Access {
  selectContext(kc, cluster.context, cluster.id, from);
  const ctx = kc.getCurrentContext();
  return { kubeConfig: kc, server: kc.getCurrentCluster()!.server, source: `${from}, context ${ctx}` };
}

function loadFile(path: string, clusterId: string): KubeConfig {
  if (!existsSync(path)) throw new AccessError(clusterId, `kubeconfig ${path} does not exist`);
  const kc = new KubeConfig();
  try {
    kc.loadFromFile(path);
  } catch (e) {
    throw new AccessError(clusterId, `cannot read kubeconfig ${path}: ${(e as Error).message}`);
  }
  return kc;
}

export function resolveAccess(cluster: ClusterConfig, env: Env = process.env): Access {
  const id = cluster.id;
  if (cluster.inCluster) return inClusterConfig(cluster.inCluster, env, id);

  if (cluster.connection) {
    const c = cluster.connection;
    const kc = new KubeConfig();
    kc.loadFromClusterAndUser(
      { name: id, server: c.server, caData: c.caData, skipTLSVerify: c.skipTLSVerify },
      { name: id, token: c.token, certData: c.certData, keyData: c.keyData },
    );
    return { kubeConfig: kc, server: c.server, source: 'connection settings' };
  }

  const contentEnv = `KUBECONFIG_CONTENT_${envSuffix(id)}`;
  const content = cluster.kubeconfigContent ?? env[contentEnv];
  if (content) {
    const kc = new KubeConfig();
    try {
      kc.loadFromString(decodeKubeconfigContent(content));
    } catch (e) {
      throw new AccessError(id, `kubeconfig content is neither kubeconfig YAML nor base64 of it: ${(e as Error).message}`);
    }
    return fromKubeconfig(kc, cluster, cluster.kubeconfigContent ? 'kubeconfigContent' : contentEnv);
  }

  const fileEnv = `KUBECONFIG_${envSuffix(id)}`;
  const file = cluster.kubeconfig ?? env[fileEnv];
  if (file) {
    const path = expandPath(file, env);
    return fromKubeconfig(loadFile(path, id), cluster, `kubeconfig ${path}`);
  }

  const saToken = join(SA_DIR, 'token');
  if (env.KUBERNETES_SERVICE_HOST && existsSync(saToken)) {
    return inClusterConfig({ tokenFile: saToken, caFile: join(SA_DIR, 'ca.crt') }, env, id);
  }

  // Default kubeconfig. client-node's loadFromDefault falls back to http://localhost:8080 silently; we say what we looked at.
  const candidates = env.KUBECONFIG ? env.KUBECONFIG.split(delimiter).filter(Boolean) : [join(env.HOME || homedir(), '.kube', 'config')];
  const found = candidates.filter((p) => existsSync(p));
  if (found.length === 0) throw new AccessError(id, `no kubeconfig found (looked at ${candidates.join(', ')})`);
  const kc = loadFile(found[0], id);
  for (const extra of found.slice(1)) kc.mergeConfig(loadFile(extra, id));
  return fromKubeconfig(kc, cluster, `kubeconfig ${found.join(delimiter)}`);
}

