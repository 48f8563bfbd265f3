// The executable loads client-node lean (src/runtime/lean-client-node.ts): KubeConfig still loads kubeconfigs and
// applies auth, the typed API clients are not loaded, and that shows in memory. Checked in fresh processes under
// both runtimes, as the executable starts them.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'kt-lean-'));
const kubeconfig = join(dir, 'kubeconfig');
writeFileSync(kubeconfig, `apiVersion: v1
kind: Config
clusters: [{ name: c, cluster: { server: 'https://example.invalid:6443', certificate-authority-data: ${Buffer.from('CA PEM').toString('base64')} } }]
users: [{ name: u, user: { token: t0ken } }]
contexts: [{ name: x, context: { cluster: c, user: u } }]
current-context: x
`);

// What a process that loaded client-node (lean or not) can do with it, and what it costs.
const probe = (mode: 'lean' | 'full', runtime: 'node' | 'deno') => {
  const args = [join(root, 'test/fixtures/client-node-probe.ts'), mode, kubeconfig];
  return JSON.parse(execFileSync(runtime, runtime === 'node' ? ['--expose-gc', ...args] : ['run', '-A', '--v8-flags=--expose-gc', ...args],
    { cwd: root, encoding: 'utf8' })) as { server: string; auth: string; ca: string; typedApi: string; heapMB: number };
};

describe.each(['node', 'deno'] as const)('client-node loaded lean under %s', (runtime) => {
  it('still loads the kubeconfig and applies its auth; the typed API clients are not loaded', () => {
    const lean = probe('lean', runtime);
    expect(lean).toMatchObject({ server: 'https://example.invalid:6443', auth: 'Bearer t0ken', ca: 'CA PEM' });
    expect(lean.typedApi).toMatch(/typed API clients are not loaded in kubetrail/);
  });

  it('saves what loading them costs', () => {
    const full = probe('full', runtime);
    const lean = probe('lean', runtime);
    expect(full.typedApi).not.toMatch(/not loaded/); // a plain import is unchanged
    expect(full.heapMB - lean.heapMB).toBeGreaterThan(10);
  });
});
