// Turns raw config (parsed YAML/JSON) into a complete `Config`, or throws a ConfigError naming the field.
// Nothing here touches the network or the repository: validation happens before any work starts.
import { existsSync } from 'node:fs';
import { Cron } from 'croner';
import { compileTypePattern } from '../model/type-name.ts';
import { ConfigError } from './errors.ts';
import { validateNoise } from './noise-rules.ts';
import { validatePullRequest } from './pull-request.ts';
import { validateSecrets } from './secrets.ts';
import { branchNameProblem } from './ref-name.ts';
import type { ClusterConfig, Config, DiscoverySettings } from './types.ts';

type Raw = Record<string, unknown>;
type Env = Record<string, string | undefined>;

export const DEFAULT_DISCOVERY: DiscoverySettings = {
  select: ['*'],
  ignore: [],
  namespaces: [],
  excludeNamespaces: [],
  includeSecrets: false,
  includeCRDs: true,
  crdCacheTTL: 300,
  defaultIgnores: { events: true, leases: true, endpoints: true, metrics: true, componentStatuses: true, ownedObjects: true },
  keepStatus: [],
  concurrency: 4,
  pageSize: 500,
  requestTimeoutSeconds: 30,
  maxDeletePercent: 50,
  ignoreObjects: [],
  ignoreFields: [],
  redactFields: [],
  defaultIgnoreObjects: { clusterAutoscalerStatus: true },
  defaultIgnoreFields: { leaderElection: true, templateCreationTimestamp: true, autoscalerStatus: true, nodeTTL: true, reconcileRequests: true },
  defaultRedactFields: { envSecrets: true, helmValues: true, helmReleaseConfigMaps: true },
  keepLastApplied: false,
};

const DISCOVERY_KEYS = Object.keys(DEFAULT_DISCOVERY);
const CLUSTER_ID = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

// ── small typed readers that name the field on error ──────────────────────────────────────────────
const at = (path: string, key: string | number) =>
  typeof key === 'number' ? `${path}[${key}]` : path ? `${path}.${key}` : key;

function object(value: unknown, path: string, allowed: string[]): Raw {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new ConfigError(path, 'must be a map');
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) throw new ConfigError(at(path, key), `unknown key (allowed: ${allowed.join(', ')})`);
  }
  return value as Raw;
}

function str(o: Raw, key: string, path: string): string | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new ConfigError(at(path, key), 'must be a string');
  return v;
}

function bool(o: Raw, key: string, path: string): boolean | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw new ConfigError(at(path, key), 'must be true or false');
  return v;
}

function int(o: Raw, key: string, path: string, min: number, max: number): number | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new ConfigError(at(path, key), `must be a whole number from ${min} to ${max}`);
  }
  return v;
}

function strList(o: Raw, key: string, path: string): string[] | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) throw new ConfigError(at(path, key), 'must be a list of strings');
  v.forEach((item, i) => {
    if (typeof item !== 'string') throw new ConfigError(at(at(path, key), i), 'must be a string');
  });
  return v as string[];
}

function strMap(o: Raw, key: string, path: string): Record<string, string> | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  const m = object(v, at(path, key), Object.keys(v as Raw));
  for (const [k, item] of Object.entries(m)) {
    if (typeof item !== 'string') throw new ConfigError(at(at(path, key), k), 'must be a string');
  }
  return m as Record<string, string>;
}

function cron(o: Raw, key: string, path: string): string | undefined {
  const v = str(o, key, path);
  if (v === undefined) return undefined;
  try {
    new Cron(v, { paused: true }).stop();
  } catch (e) {
    throw new ConfigError(at(path, key), `invalid cron expression "${v}": ${(e as Error).message}`);
  }
  return v;
}

function patterns(o: Raw, key: string, path: string): string[] | undefined {
  const list = strList(o, key, path);
  list?.forEach((p, i) => {
    try {
      compileTypePattern(p);
    } catch (e) {
      throw new ConfigError(at(at(path, key), i), (e as Error).message);
    }
  });
  return list;
}

function httpsUrl(value: string | undefined, path: string, allowHttp = false): string | undefined {
  if (value === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(path, `must be an https URL (got "${value}")`);
  }
  if (url.protocol !== 'https:' && !(allowHttp && url.protocol === 'http:')) {
    throw new ConfigError(path, `must be an ${allowHttp ? 'http(s)' : 'https'} URL (got "${value}")`);
  }
  return value;
}

function branch(o: Raw, key: string, path: string): string | undefined {
  const v = str(o, key, path);
  const problem = v === undefined ? undefined : branchNameProblem(v);
  if (problem) throw new ConfigError(at(path, key), `not a git branch name: ${problem} (got ${JSON.stringify(v)})`);
  return v;
}

// ── sections ──────────────────────────────────────────────────────────────────────────────────────
function discovery(o: Raw, path: string, base: DiscoverySettings): DiscoverySettings {
  const di = o.defaultIgnores === undefined ? {} :
    object(o.defaultIgnores, at(path, 'defaultIgnores'), Object.keys(base.defaultIgnores));
  const diPath = at(path, 'defaultIgnores');
  if (o.namespaces !== undefined && o.excludeNamespaces !== undefined) {
    throw new ConfigError(at(path, 'excludeNamespaces'), 'use either namespaces or excludeNamespaces, not both');
  }
  return {
    select: patterns(o, 'select', path) ?? base.select,
    ignore: patterns(o, 'ignore', path) ?? base.ignore,
    namespaces: strList(o, 'namespaces', path) ?? base.namespaces,
    excludeNamespaces: strList(o, 'excludeNamespaces', path) ?? base.excludeNamespaces,
    includeSecrets: bool(o, 'includeSecrets', path) ?? base.includeSecrets,
    includeCRDs: bool(o, 'includeCRDs', path) ?? base.includeCRDs,
    crdCacheTTL: int(o, 'crdCacheTTL', path, 0, 86400) ?? base.crdCacheTTL,
    defaultIgnores: {
      events: bool(di, 'events', diPath) ?? base.defaultIgnores.events,
      leases: bool(di, 'leases', diPath) ?? base.defaultIgnores.leases,
      endpoints: bool(di, 'endpoints', diPath) ?? base.defaultIgnores.endpoints,
      metrics: bool(di, 'metrics', diPath) ?? base.defaultIgnores.metrics,
      componentStatuses: bool(di, 'componentStatuses', diPath) ?? base.defaultIgnores.componentStatuses,
      ownedObjects: bool(di, 'ownedObjects', diPath) ?? base.defaultIgnores.ownedObjects,
    },
    keepStatus: patterns(o, 'keepStatus', path) ?? base.keepStatus,
    concurrency: int(o, 'concurrency', path, 1, 64) ?? base.concurrency,
    pageSize: int(o, 'pageSize', path, 1, 10000) ?? base.pageSize,
    requestTimeoutSeconds: int(o, 'requestTimeoutSeconds', path, 1, 3600) ?? base.requestTimeoutSeconds,
    maxDeletePercent: int(o, 'maxDeletePercent', path, 0, 100) ?? base.maxDeletePercent,
    ...validateNoise(o, path, base),
  };
}

const AUTH_KEYS = ['inCluster', 'connection', 'kubeconfigContent', 'kubeconfig'] as const;

function cluster(value: unknown, path: string, base: DiscoverySettings, env: Env): ClusterConfig {
  const o = object(value, path, ['id', 'name', 'tags', 'metadata', ...AUTH_KEYS, 'context', 'schedule', ...DISCOVERY_KEYS]);
  const id = str(o, 'id', path);
  if (!id) throw new ConfigError(at(path, 'id'), 'is required');
  if (!CLUSTER_ID.test(id)) throw new ConfigError(at(path, 'id'), `must be a DNS label (lowercase letters, digits, "-"), got "${id}"`);
  const methods = AUTH_KEYS.filter((k) => o[k] !== undefined && o[k] !== false);
  if (methods.length > 1) throw new ConfigError(at(path, methods[1]), `only one auth method per cluster (also set: ${methods[0]})`);
  const metadata = o.metadata === undefined ? {} : object(o.metadata, at(path, 'metadata'), Object.keys(o.metadata as Raw));
  const result: ClusterConfig = {
    id,
    name: str(o, 'name', path) ?? id,
    tags: strMap(o, 'tags', path) ?? {},
    metadata,
    context: str(o, 'context', path),
    schedule: cron(o, 'schedule', path),
    kubeconfigContent: str(o, 'kubeconfigContent', path),
    kubeconfig: str(o, 'kubeconfig', path),
    discovery: discovery(o, path, base),
  };
  if (o.inCluster !== undefined && o.inCluster !== false) {
    const ip = at(path, 'inCluster');
    const ic = o.inCluster === true ? {} : object(o.inCluster, ip, ['tokenFile', 'caFile', 'host', 'port']);
    result.inCluster = {
      tokenFile: str(ic, 'tokenFile', ip) ?? '/var/run/secrets/kubernetes.io/serviceaccount/token',
      caFile: str(ic, 'caFile', ip) ?? '/var/run/secrets/kubernetes.io/serviceaccount/ca.crt',
      host: str(ic, 'host', ip),
      port: str(ic, 'port', ip),
    };
  }
  if (o.connection !== undefined) {
    const cp = at(path, 'connection');
    const c = object(o.connection, cp, ['server', 'token', 'tokenEnv', 'caData', 'certData', 'keyData', 'skipTLSVerify']);
    const server = httpsUrl(str(c, 'server', cp), at(cp, 'server'));
    if (!server) throw new ConfigError(at(cp, 'server'), 'is required');
    const tokenEnv = str(c, 'tokenEnv', cp);
    if (tokenEnv && !env[tokenEnv]) throw new ConfigError(at(cp, 'tokenEnv'), `environment variable ${tokenEnv} is not set`);
    if ((c.certData === undefined) !== (c.keyData === undefined)) {
      throw new ConfigError(at(cp, c.certData === undefined ? 'certData' : 'keyData'), 'certData and keyData go together');
    }
    result.connection = {
      server,
      token: str(c, 'token', cp) ?? (tokenEnv ? env[tokenEnv] : undefined),
      tokenEnv,
      caData: str(c, 'caData', cp),
      certData: str(c, 'certData', cp),
      keyData: str(c, 'keyData', cp),
      skipTLSVerify: bool(c, 'skipTLSVerify', cp) ?? false,
    };
  }
  return result;
}

/** Validates everything before anything runs; `env` supplies secrets named by `*Env` fields. */
export function validateConfig(raw: unknown, env: Env = {}): Config {
  const top = object(raw ?? {}, '', [
    'repo', 'branch', 'bare', 'author', 'secrets', 'schedule', 'startJitterSeconds', 'timezone', 'concurrency', 'remote',
    'webhooks', 'api', 'clusters', 'defaults', 'mode', 'watch',
  ]);
  const mode = str(top, 'mode', '') ?? 'sync';
  if (mode !== 'sync' && mode !== 'watch') throw new ConfigError('mode', `must be sync or watch (got "${mode}")`);
  const watch = top.watch === undefined ? {} : object(top.watch, 'watch', ['commitIntervalSeconds', 'discoveryIntervalSeconds']);
  const defaults = discovery(top.defaults === undefined ? {} : object(top.defaults, 'defaults', DISCOVERY_KEYS), 'defaults', DEFAULT_DISCOVERY);
  if (!Array.isArray(top.clusters) || top.clusters.length === 0) throw new ConfigError('clusters', 'must be a non-empty list');
  const clusters = top.clusters.map((c, i) => cluster(c, `clusters[${i}]`, defaults, env));
  const seen = new Set<string>();
  clusters.forEach((c, i) => {
    if (seen.has(c.id)) throw new ConfigError(`clusters[${i}].id`, `duplicate cluster id "${c.id}"`);
    seen.add(c.id);
  });

  const author = top.author === undefined ? {} : object(top.author, 'author', ['name', 'email']);
  const wantsSecrets = clusters.findIndex((c) => c.discovery.includeSecrets);
  const secrets = validateSecrets(top.secrets, env, wantsSecrets >= 0 ? `clusters[${wantsSecrets}].includeSecrets` : undefined);

  let remote: Config['remote'];
  if (top.remote !== undefined) {
    const r = object(top.remote, 'remote', ['url', 'branch', 'tokenEnv', 'username', 'allowInsecureHttp', 'pushAttempts', 'pullRequest']);
    const allowInsecureHttp = bool(r, 'allowInsecureHttp', 'remote') ?? false;
    const url = httpsUrl(str(r, 'url', 'remote'), 'remote.url', true);
    if (!url) throw new ConfigError('remote.url', 'is required');
    if (new URL(url).protocol === 'http:' && !allowInsecureHttp) {
      throw new ConfigError('remote.url', `http:// sends the git token in clear: use https, or set remote.allowInsecureHttp: true (--allow-insecure-http) (got "${url}")`);
    }
    remote = {
      url,
      branch: branch(r, 'branch', 'remote') ?? 'main',
      tokenEnv: str(r, 'tokenEnv', 'remote') ?? 'KUBETRAIL_GIT_TOKEN',
      username: str(r, 'username', 'remote') ?? 'x-access-token',
      allowInsecureHttp,
      pushAttempts: int(r, 'pushAttempts', 'remote', 1, 100) ?? 20,
      pullRequest: r.pullRequest === undefined || r.pullRequest === null || r.pullRequest === false
        ? undefined : validatePullRequest(r.pullRequest, { remoteUrl: url, allowInsecureHttp }),
    };
  }

  const webhooksRaw = top.webhooks ?? [];
  if (!Array.isArray(webhooksRaw)) throw new ConfigError('webhooks', 'must be a list');
  const webhooks = webhooksRaw.map((w, i) => {
    const p = `webhooks[${i}]`;
    const o = object(w, p, ['url', 'events', 'secretEnv']);
    const url = httpsUrl(str(o, 'url', p), `${p}.url`, true);
    if (!url) throw new ConfigError(`${p}.url`, 'is required');
    return { url, events: strList(o, 'events', p) ?? ['*'], secretEnv: str(o, 'secretEnv', p) };
  });

  const api = top.api === undefined ? {} : object(top.api, 'api', ['port', 'host', 'tokenEnv', 'readTokenEnv', 'anonymousReads', 'auditTokenEnv', 'auditRetentionSeconds', 'auditMaxEvents', 'tlsCertFile', 'tlsKeyFile']);
  const timezone = str(top, 'timezone', '');
  if (timezone) {
    try {
      new Intl.DateTimeFormat('en', { timeZone: timezone });
    } catch {
      throw new ConfigError('timezone', `unknown time zone "${timezone}"`);
    }
  }
  return {
    repo: str(top, 'repo', '') ?? './kubetrail-repo',
    branch: branch(top, 'branch', '') ?? 'main',
    bare: bool(top, 'bare', '') ?? false,
    author: {
      name: str(author, 'name', 'author') ?? 'kubetrail',
      email: str(author, 'email', 'author') ?? 'kubetrail@localhost',
    },
    secrets,
    mode,
    watch: {
      commitIntervalSeconds: int(watch, 'commitIntervalSeconds', 'watch', 1, 3600) ?? 10,
      discoveryIntervalSeconds: int(watch, 'discoveryIntervalSeconds', 'watch', 1, 86_400) ?? 60,
    },
    schedule: cron(top, 'schedule', ''),
    startJitterSeconds: int(top, 'startJitterSeconds', '', 0, 3600) ?? 0,
    timezone,
    concurrency: int(top, 'concurrency', '', 1, 64) ?? 2,
    remote,
    webhooks,
    api: {
      port: int(api, 'port', 'api', 0, 65535) ?? 8080,
      host: str(api, 'host', 'api') ?? '0.0.0.0',
      tokenEnv: str(api, 'tokenEnv', 'api') ?? 'KUBETRAIL_API_TOKEN',
      readTokenEnv: str(api, 'readTokenEnv', 'api'),
      anonymousReads: bool(api, 'anonymousReads', 'api') ?? false,
      auditTokenEnv: str(api, 'auditTokenEnv', 'api') ?? 'KUBETRAIL_AUDIT_TOKEN',
      auditRetentionSeconds: int(api, 'auditRetentionSeconds', 'api', 10, 86_400) ?? 900,
      auditMaxEvents: int(api, 'auditMaxEvents', 'api', 100, 10_000_000) ?? 50_000,
      ...tlsFiles(api),
    },
    clusters,
  };
}

/** `api.tlsCertFile` and `api.tlsKeyFile`: both or neither, each a readable file. */
function tlsFiles(api: Raw): { tlsCertFile?: string; tlsKeyFile?: string } {
  const tlsCertFile = str(api, 'tlsCertFile', 'api');
  const tlsKeyFile = str(api, 'tlsKeyFile', 'api');
  if (!tlsCertFile !== !tlsKeyFile) throw new ConfigError(tlsCertFile ? 'api.tlsKeyFile' : 'api.tlsCertFile', 'is required with the other (HTTPS needs a certificate and its key)');
  for (const [field, file] of [['api.tlsCertFile', tlsCertFile], ['api.tlsKeyFile', tlsKeyFile]] as const) {
    if (file && !existsSync(file)) throw new ConfigError(field, `no such file: ${file}`);
  }
  return tlsCertFile ? { tlsCertFile, tlsKeyFile } : {};
}
