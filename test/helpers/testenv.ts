// Helpers for e2e tests: the real apiserver started by globalSetup, kubectl, the git CLI, and the kubetrail CLI
// under Node or (with KUBETRAIL_TEST_RUNTIME=deno) under Deno.
import { execFile, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inject } from 'vitest';
import { resolveAccess } from '../../src/kube/access.ts';
import { createKubeClient, type KubeClient } from '../../src/kube/client.ts';
import type { TestEnv } from '../env/global-setup.ts';

export const root = new URL('../..', import.meta.url).pathname;
export const testenv = (): TestEnv => inject('testenv');
export const runtime = process.env.KUBETRAIL_TEST_RUNTIME === 'deno' ? 'deno' : 'node';

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `kt-${prefix}-`));
}

export function kubectl(args: string[], input?: string): string {
  return execFileSync('kubectl', ['--kubeconfig', testenv().KUBECONFIG, ...args], { input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
}

export const apply = (yaml: string) => kubectl(['apply', '-f', '-'], yaml);

export function git(dir: string, args: string[]): string {
  return execFileSync('git', ['-C', dir, ...args], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
}

export function adminClient(id = 'testenv'): KubeClient {
  const access = resolveAccess({ id, name: id, tags: {}, metadata: {}, kubeconfig: testenv().KUBECONFIG } as never, {});
  return createKubeClient(id, access);
}

export interface CliResult { code: number; stdout: string; stderr: string }

/** Runs `kubetrail` as a user would: a separate process, under the runtime chosen for this test run. */
export function runCli(
  args: string[],
  opts: { env?: Record<string, string | undefined>; cwd?: string; command?: [string, string[]] } = {},
): Promise<CliResult> {
  const cli = join(root, 'src/cli.ts');
  const [cmd, prefix] = opts.command ?? (runtime === 'deno' ? ['deno', ['run', '-A', '--quiet', cli]] : [process.execPath, [cli]]);
  const env = { PATH: process.env.PATH, HOME: process.env.HOME, ...opts.env } as Record<string, string>;
  for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k];
  return new Promise((resolve) => {
    execFile(cmd, [...prefix, ...args], { env, cwd: opts.cwd ?? root, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

/** Starts `kubetrail` without waiting, for tests that signal or kill it. */
export function spawnCli(args: string[], opts: { env?: Record<string, string | undefined> } = {}) {
  const cli = join(root, 'src/cli.ts');
  const [cmd, prefix] = runtime === 'deno' ? ['deno', ['run', '-A', '--quiet', cli]] : [process.execPath, [cli]];
  const env = { PATH: process.env.PATH, HOME: process.env.HOME, ...opts.env } as Record<string, string>;
  return spawn(cmd, [...prefix, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
}
