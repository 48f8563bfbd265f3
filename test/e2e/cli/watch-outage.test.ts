// `kubetrail watch` through an apiserver outage: a TCP front to the real apiserver is cut (every connection
// dropped, new ones refused) while objects change, then comes back on the same port. The watch reconnects with
// backoff and the tree converges to what the cluster holds. Runs with the CLI under Node and under Deno.
import type { ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureNamespace } from '../../helpers/rbac.ts';
import { adminClient, apply, git, kubectl, runtime, spawnCli, tempDir, testenv } from '../../helpers/testenv.ts';
import { sleep, waitFor as waitUntil } from '../../helpers/wait.ts';

const ns = `watch-outage-${runtime}`;
const id = `outage-${runtime}`;
const client = adminClient();

/** A TCP front for the apiserver (TLS passes through: the certificate is for 127.0.0.1) that can be cut and restored. */
function tcpFront(target: URL) {
  let server: Server | undefined;
  const sockets = new Set<Socket>();
  let port = 0;
  const up = () => new Promise<void>((resolve) => {
    server = createServer((inbound) => {
      if (!server?.listening) return void inbound.destroy(); // accepted while being cut
      const outbound = connect(Number(target.port), target.hostname);
      for (const s of [inbound, outbound]) {
        sockets.add(s);
        s.on('close', () => sockets.delete(s));
        s.on('error', () => {});
      }
      inbound.pipe(outbound).pipe(inbound);
    });
    server.listen(port, '127.0.0.1', () => {
      port = (server!.address() as AddressInfo).port;
      resolve();
    });
  });
  // Stop accepting first, then cut what is open: a reconnect that slipped in between would keep close() waiting
  // (seen under Deno in a loaded CI run: the test hung for its whole 120 s).
  const down = () => new Promise<void>((resolve) => {
    server!.close(() => resolve());
    for (const s of sockets) s.destroy();
  });
  return { up, down, port: () => port };
}

describe(`kubetrail watch through an apiserver outage (CLI under ${runtime})`, () => {
  const dir = tempDir('watch-outage');
  const repo = join(dir, 'repo');
  const front = tcpFront(new URL(testenv().APISERVER_URL));
  let proc: ChildProcess;
  let stdout = '';
  let stderr = '';
  const base = `clusters/${id}/core.v1.ConfigMap/${ns}`;
  const filesAt = () => git(repo, ['ls-tree', '-r', '--name-only', 'HEAD', base]).split('\n').filter(Boolean);
  const waitFor = <T>(what: string, check: () => T | undefined | false, ms: number) =>
    waitUntil(what, check, ms, () => `\nstdout:\n${stdout}\nstderr:\n${stderr}`);

  beforeAll(async () => {
    await ensureNamespace(client, ns);
    apply(`apiVersion: v1\nkind: ConfigMap\nmetadata: {name: doomed, namespace: ${ns}}\ndata: {a: "1"}\n`);
    await front.up();
    const kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(kubeconfig, readFileSync(testenv().KUBECONFIG, 'utf8').replace(/server: https:\/\/127\.0\.0\.1:\d+/, `server: https://127.0.0.1:${front.port()}`));
    const config = join(dir, 'kubetrail.yaml');
    writeFileSync(config, [`repo: ${repo}`, 'clusters:', `  - id: ${id}`, `    kubeconfig: ${kubeconfig}`, `    namespaces: [${ns}]`].join('\n'));
    proc = spawnCli(['watch', '--config', config, '--commit-interval', '2', '--discovery-interval', '2']);
    proc.stdout!.on('data', (c) => { stdout += c; });
    proc.stderr!.on('data', (c) => { stderr += c; });
    await waitFor('watching', () => stdout.includes(`${id}: watching`), 60_000);
  });

  afterAll(async () => {
    if (proc.exitCode === null) proc.kill('SIGKILL');
    await front.down().catch(() => {});
  });

  it('reconnects after the outage and records what changed during it', async () => {
    expect(filesAt()).toContain(`${base}/doomed.yaml`);
    await front.down(); // every watch dropped, new connections refused
    apply(`apiVersion: v1\nkind: ConfigMap\nmetadata: {name: born-in-outage, namespace: ${ns}}\ndata: {b: "2"}\n`);
    kubectl(['delete', 'configmap', 'doomed', '-n', ns]);
    await sleep(5000); // several failed reconnects: the backoff has grown
    expect(filesAt()).toContain(`${base}/doomed.yaml`); // nothing is deleted for not being reachable
    await front.up();
    await waitFor('the tree to converge', () => {
      const files = filesAt();
      return files.includes(`${base}/born-in-outage.yaml`) && !files.includes(`${base}/doomed.yaml`);
    }, 45_000);
    expect(stderr).toMatch(/retrying/);
    proc.kill('SIGTERM');
    expect(await new Promise((r) => proc.on('exit', r))).toBe(0);
    git(repo, ['fsck', '--strict']);
  });
});
