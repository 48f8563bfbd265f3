// `remote.pullRequest`: review each cluster's changes as a pull request instead of pushing to the base branch.
import { compileTypePattern } from '../model/type-name.ts';
import { ConfigError } from './errors.ts';
import { branchNameProblem } from './ref-name.ts';

export interface PullRequestConfig {
  base: string; // the branch PRs target (and guarded mode's routine changes go to)
  forge?: 'github' | 'gitea'; // inferred for github.com
  apiUrl?: string; // GitHub Enterprise: https://<host>/api/v3; Gitea: <web>/api/v1 (derived from remote.url when unset)
  mode: 'always' | 'guarded';
  guardedTypes: string[]; // type patterns whose changes need review in guarded mode
  labels: string[];
  reviewers: string[];
  teamReviewers: string[];
  draft: boolean; // GitHub only
}

export const DEFAULT_GUARDED_TYPES = [
  'rbac.authorization.k8s.io.*',
  'core.v1.Secret',
  'apiextensions.k8s.io.*.CustomResourceDefinition',
  'admissionregistration.k8s.io.*',
];

const KEYS = ['base', 'forge', 'apiUrl', 'mode', 'guardedTypes', 'labels', 'reviewers', 'teamReviewers', 'draft'];
const PATH = 'remote.pullRequest';

function strings(o: Record<string, unknown>, key: string): string[] | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || v.some((s) => typeof s !== 'string' || s === '')) throw new ConfigError(`${PATH}.${key}`, 'must be a list of non-empty strings');
  return v as string[];
}

function oneOf<T extends string>(o: Record<string, unknown>, key: string, allowed: T[]): T | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' || !allowed.includes(v as T)) throw new ConfigError(`${PATH}.${key}`, `must be one of ${allowed.join(', ')} (got ${JSON.stringify(v)})`);
  return v as T;
}

/** `true` (the flag --pull-request alone) means every default. */
export function validatePullRequest(raw: unknown, o: { remoteUrl: string; allowInsecureHttp: boolean }): PullRequestConfig {
  const r = raw === true ? {} : raw;
  if (r === null || typeof r !== 'object' || Array.isArray(r)) throw new ConfigError(PATH, 'must be a map (or true for the defaults)');
  const p = r as Record<string, unknown>;
  for (const key of Object.keys(p)) if (!KEYS.includes(key)) throw new ConfigError(`${PATH}.${key}`, `unknown key (allowed: ${KEYS.join(', ')})`);
  const base = p.base ?? 'main';
  if (typeof base !== 'string') throw new ConfigError(`${PATH}.base`, 'must be a string');
  const problem = branchNameProblem(base);
  if (problem) throw new ConfigError(`${PATH}.base`, `${problem} (got "${base}")`);
  const forge = oneOf(p, 'forge', ['github', 'gitea']);
  let apiUrl: string | undefined;
  if (p.apiUrl !== undefined && p.apiUrl !== null) {
    if (typeof p.apiUrl !== 'string') throw new ConfigError(`${PATH}.apiUrl`, 'must be a string');
    let url: URL;
    try { url = new URL(p.apiUrl); } catch { throw new ConfigError(`${PATH}.apiUrl`, `must be a URL (got "${p.apiUrl}")`); }
    if (url.protocol === 'http:' && !o.allowInsecureHttp) {
      throw new ConfigError(`${PATH}.apiUrl`, `http:// sends the token in clear: use https, or set remote.allowInsecureHttp: true (got "${p.apiUrl}")`);
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new ConfigError(`${PATH}.apiUrl`, `must be an https URL (got "${p.apiUrl}")`);
    apiUrl = p.apiUrl.replace(/\/+$/, '');
  }
  let host = '';
  try { host = new URL(o.remoteUrl).hostname; } catch { /* remote.url is checked on its own */ }
  if (!forge && host !== 'github.com') throw new ConfigError(`${PATH}.forge`, `set github (GitHub Enterprise) or gitea for ${host || 'this remote'}: only github.com is recognized by name`);
  const guardedTypes = strings(p, 'guardedTypes') ?? DEFAULT_GUARDED_TYPES;
  guardedTypes.forEach((pattern, i) => {
    try { compileTypePattern(pattern); } catch (e) { throw new ConfigError(`${PATH}.guardedTypes[${i}]`, (e as Error).message); }
  });
  const draft = p.draft ?? false;
  if (typeof draft !== 'boolean') throw new ConfigError(`${PATH}.draft`, 'must be true or false');
  return {
    base, forge, apiUrl, mode: oneOf(p, 'mode', ['always', 'guarded']) ?? 'always', guardedTypes,
    labels: strings(p, 'labels') ?? [], reviewers: strings(p, 'reviewers') ?? [], teamReviewers: strings(p, 'teamReviewers') ?? [], draft,
  };
}
