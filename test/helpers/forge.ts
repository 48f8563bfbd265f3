// A real Gitea per test file (test/env/forge-up.sh, ~10 s warm): its env, git over smart HTTP with its token, its API,
// and the API writes it saw, counted from its own router log.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readEnvFile } from '../env/global-setup.ts';

export interface Forge {
  dir: string;
  url: string; // web and git, e.g. http://127.0.0.1:31207
  apiUrl: string; // …/api/v1
  token: string;
  owner: string;
  repo: string;
  /** The repository's git URL (no credentials in it). */
  gitUrl: string;
  /** Calls the API as the admin; `body` is JSON. */
  api(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }>;
  /** Merges a PR the way a reviewer would: once Gitea's background mergeability check has run (it answers 405 before). */
  merge(number: number): Promise<{ status: number; body: any }>;
  /** API writes (POST, PUT, PATCH, DELETE under /api/v1/; not git's internal hook calls) Gitea has completed so far, as "METHOD path status" lines. */
  apiWrites(): string[];
  stop(): void;
}

const envDir = new URL('../env/', import.meta.url).pathname;

/** Starts a fresh Gitea; call `stop()` in afterAll. Fails the test file when Gitea cannot start. */
export function startForge(): Forge {
  const dir = mkdtempSync(join(tmpdir(), 'kt-forge-'));
  try {
    execFileSync('bash', [join(envDir, 'forge-up.sh'), dir], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 20 * 60_000 });
  } catch (e) {
    execFileSync('bash', [join(envDir, 'forge-down.sh'), dir]);
    throw new Error(`the test forge (Gitea) did not start: ${(e as { stderr?: Buffer }).stderr?.toString() ?? (e as Error).message}`);
  }
  const env = readEnvFile(join(dir, 'env'));
  const forge: Forge = {
    dir,
    url: env.FORGE_URL,
    apiUrl: env.FORGE_API_URL,
    token: env.FORGE_TOKEN,
    owner: env.FORGE_OWNER,
    repo: env.FORGE_REPO,
    gitUrl: `${env.FORGE_URL}/${env.FORGE_OWNER}/${env.FORGE_REPO}.git`,
    async api(method, path, body) {
      const res = await fetch(`${env.FORGE_API_URL}${path}`, {
        method,
        headers: { authorization: `token ${env.FORGE_TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : undefined };
    },
    async merge(number) {
      const path = `/repos/${env.FORGE_OWNER}/${env.FORGE_REPO}/pulls/${number}`;
      const deadline = Date.now() + 60_000;
      for (;;) {
        const pr = await forge.api('GET', path);
        if (pr.body?.mergeable || Date.now() > deadline) {
          const res = await forge.api('POST', `${path}/merge`, { Do: 'merge' });
          if (res.status !== 405 || Date.now() > deadline) return res;
        }
        await new Promise((r) => setTimeout(r, 250));
      }
    },
    apiWrites() {
      const log = readFileSync(join(dir, 'log', 'gitea.log'), 'utf8');
      return [...log.matchAll(/router: completed (POST|PUT|PATCH|DELETE) (\/api\/v1\/\S+) for \S+ (\d{3})/g)].map((m) => `${m[1]} ${m[2]} ${m[3]}`);
    },
    stop() {
      execFileSync('bash', [join(envDir, 'forge-down.sh'), dir]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return forge;
}

/** git with the token passed per command as an extra header: never in a URL or .git/config. */
export function gitWithToken(forge: Forge, cwd: string, args: string[]): string {
  const basic = Buffer.from(`kubetrail:${forge.token}`).toString('base64');
  return execFileSync('git', ['-c', `http.extraHeader=Authorization: Basic ${basic}`, '-C', cwd, ...args], {
    encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'],
  });
}
