// Starts one real etcd + kube-apiserver for the e2e run and always stops it. If it cannot start, the run fails.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';

export interface TestEnv {
  dir: string;
  KUBECONFIG: string;
  APISERVER_URL: string;
  ADMIN_TOKEN: string;
  NOBODY_TOKEN: string;
  CA_FILE: string;
  CA_KEY_FILE: string;
  ETCD_URL: string;
}

declare module 'vitest' {
  export interface ProvidedContext { testenv: TestEnv }
}

export function readEnvFile(file: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) env[line.slice(0, i)] = line.slice(i + 1);
  }
  return env;
}

export default function setup(project: TestProject) {
  const dir = mkdtempSync(join(tmpdir(), 'kubetrail-testenv-'));
  const here = new URL('.', import.meta.url).pathname;
  try {
    // A cold build of kube-apiserver can take 25 minutes on 2 cores; progress goes to the console.
    execFileSync('bash', [join(here, 'up.sh'), dir], { stdio: ['ignore', 'inherit', 'inherit'], timeout: 45 * 60_000 });
  } catch (e) {
    execFileSync('bash', [join(here, 'down.sh'), dir]);
    throw new Error(`the test Kubernetes API server did not start: ${(e as Error).message}`);
  }
  project.provide('testenv', { dir, ...readEnvFile(join(dir, 'env')) } as TestEnv);
  return () => {
    execFileSync('bash', [join(here, 'down.sh'), dir]);
    rmSync(dir, { recursive: true, force: true });
  };
}
