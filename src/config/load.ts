// Where configuration comes from: a YAML/JSON file, or — with no file — one cluster described by CLI flags.
import { existsSync, readFileSync } from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node/dist/config.js';
import { parse } from 'yaml';
import { expandPath } from '../util/expand-path.ts';
import { ConfigError } from './errors.ts';
import type { Config } from './types.ts';
import { validateConfig } from './validate.ts';

type Env = Record<string, string | undefined>;

export interface ConfigFlags {
  config?: string;
  repo?: string;
  clusterId?: string;
  kubeconfig?: string;
  context?: string;
  includeSecrets?: boolean;
  /** remote.url, remote.branch, schedule, remote.allowInsecureHttp: merged into the file's values, then validated with them. */
  remote?: string;
  branch?: string;
  schedule?: string;
  allowInsecureHttp?: boolean;
  /** --pull-request [--base NAME]: remote.pullRequest (its other fields from the file). */
  pullRequest?: boolean;
  base?: string;
}

// A value that came from a flag is blamed on the flag, not on a config field the user never wrote.
const FLAG_FOR_FIELD: Record<string, keyof ConfigFlags> = {
  'remote.url': 'remote', 'remote.branch': 'branch', schedule: 'schedule', 'remote.pullRequest.base': 'base',
};
const flagName = (key: string) => `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

export function parseConfigText(text: string, source: string): unknown {
  try {
    return parse(text, { prettyErrors: true });
  } catch (e) {
    throw new ConfigError('', `${source} is not valid YAML or JSON: ${(e as Error).message.split('\n')[0]}`);
  }
}

/** A DNS label from a context name (`kind-dev@corp` → `kind-dev-corp`). */
export function clusterIdFrom(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 63) || 'default';
}

function currentContextName(kubeconfig: string | undefined, env: Env): string | undefined {
  const files = kubeconfig ? [expandPath(kubeconfig, env)] : (env.KUBECONFIG ?? `${env.HOME}/.kube/config`).split(':');
  const file = files.find((f) => f && existsSync(f));
  if (!file) return undefined;
  try {
    const kc = new KubeConfig();
    kc.loadFromFile(file);
    return kc.getCurrentContext() || undefined;
  } catch {
    return undefined;
  }
}

export function loadConfig(flags: ConfigFlags, env: Env = process.env): Config {
  const file = flags.config ?? env.KUBETRAIL_CONFIG;
  let raw: Record<string, unknown>;
  if (file) {
    if (!existsSync(file)) throw new ConfigError('', `config file ${file} does not exist`);
    raw = (parseConfigText(readFileSync(file, 'utf8'), file) ?? {}) as Record<string, unknown>;
    if (flags.clusterId || flags.kubeconfig || flags.context) {
      throw new ConfigError('', '--cluster-id, --kubeconfig and --context describe a single cluster; with --config, set them in the file');
    }
  } else {
    const id = flags.clusterId ?? clusterIdFrom(flags.context ?? currentContextName(flags.kubeconfig, env) ?? 'default');
    const cluster: Record<string, unknown> = { id };
    if (flags.kubeconfig) cluster.kubeconfig = flags.kubeconfig;
    if (flags.context) cluster.context = flags.context;
    if (flags.includeSecrets) cluster.includeSecrets = true;
    raw = { clusters: [cluster] };
  }
  if (flags.repo) raw.repo = flags.repo;
  else if (env.KUBETRAIL_REPO && raw.repo === undefined) raw.repo = env.KUBETRAIL_REPO;
  if (file && flags.includeSecrets) {
    for (const c of (raw.clusters as Record<string, unknown>[] | undefined) ?? []) if (c && typeof c === 'object') c.includeSecrets = true;
  }
  if (flags.schedule !== undefined) raw.schedule = flags.schedule;
  if (flags.remote !== undefined || flags.branch !== undefined || flags.allowInsecureHttp || flags.pullRequest || flags.base !== undefined) {
    const remote = { ...(raw.remote && typeof raw.remote === 'object' ? raw.remote as Record<string, unknown> : {}) };
    if (flags.remote !== undefined) remote.url = flags.remote;
    if (remote.url === undefined && flags.branch !== undefined) throw new ConfigError('--branch', 'names a remote branch: give --remote URL or remote.url in the config');
    if (flags.branch !== undefined) remote.branch = flags.branch;
    if (flags.allowInsecureHttp) remote.allowInsecureHttp = true;
    if (flags.base !== undefined && !flags.pullRequest) throw new ConfigError('--base', 'names the pull requests\' base branch: give --pull-request too');
    if (flags.pullRequest) {
      const pr = remote.pullRequest && typeof remote.pullRequest === 'object' ? remote.pullRequest as Record<string, unknown> : {};
      remote.pullRequest = flags.base !== undefined ? { ...pr, base: flags.base } : pr;
    }
    if (remote.url !== undefined || Object.keys(remote).length > 1) raw.remote = remote;
  }
  try {
    return validateConfig(raw, env);
  } catch (e) {
    const flag = e instanceof ConfigError ? FLAG_FOR_FIELD[e.field] : undefined;
    if (!flag || flags[flag] === undefined) throw e;
    const { field, message } = e as ConfigError;
    throw new ConfigError(flagName(flag), message.slice(field.length + 2));
  }
}
