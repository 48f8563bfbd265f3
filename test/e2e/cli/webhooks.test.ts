// `kubetrail sync` (the shipped CronJob) delivers its webhooks before it exits, within --webhook-wait, and a receiver
// that never answers costs at most that wait, then a warning on stderr. Signatures checked with `standardwebhooks`.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMany } from '../../helpers/objects.ts';
import { ensureNamespace } from '../../helpers/rbac.ts';
import { adminClient, runCli, runtime, tempDir, testenv } from '../../helpers/testenv.ts';

const ns = `hooks-${runtime}`;
const id = `hooks-${runtime}`;
const secret = 'cronjob-hook-secret';

describe(`webhooks of kubetrail sync (CLI under ${runtime})`, () => {
  const dir = tempDir('hooks');
  const received: { headers: Record<string, string>; body: string }[] = [];
  const hanging: { destroy(): void }[] = [];
  let receiver: Server;
  let hang: Server;
  const url = (s: Server, path: string) => `http://127.0.0.1:${(s.address() as AddressInfo).port}${path}`;
  const config = (hooks: string[], file: string) => {
    writeFileSync(join(dir, file), [`repo: ${join(dir, file.replace('.yaml', '-repo'))}`, 'webhooks:', ...hooks,
      'clusters:', `  - id: ${id}`, `    kubeconfig: ${testenv().KUBECONFIG}`, `    namespaces: [${ns}]`, '    select: [core.v1.ConfigMap]'].join('\n'));
    return join(dir, file);
  };

  beforeAll(async () => {
    await ensureNamespace(adminClient(), ns);
    await createMany(adminClient(), `/api/v1/namespaces/${ns}/configmaps`, [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'one' }, data: { v: '1' } }]);
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        received.push({ headers: req.headers as Record<string, string>, body });
        res.end('ok');
      });
    });
    hang = createServer((req) => { hanging.push(req.socket); });
    await Promise.all([receiver, hang].map((s) => new Promise<void>((r) => s.listen(0, '127.0.0.1', r))));
  });
  afterAll(async () => {
    hanging.forEach((s) => s.destroy());
    await Promise.all([receiver, hang].map((s) => new Promise((r) => s.close(r))));
  });

  it('delivers every event, signed, before the process exits', async () => {
    received.length = 0;
    const file = config([`  - {url: "${url(receiver, '/hook')}", events: ["*"], secretEnv: HOOK_SECRET}`], 'ok.yaml');
    const res = await runCli(['sync', '--config', file], { env: { HOOK_SECRET: secret } });
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    // Read right after exit: nothing arrives later.
    const events = received.map((r) => new Webhook(secret, { format: 'raw' }).verify(r.body, r.headers) as { event: string; data: any });
    expect(events.map((e) => e.event)).toEqual(expect.arrayContaining(['cluster.sync.started', 'change.detected', 'cluster.sync.completed']));
    expect(events.find((e) => e.event === 'cluster.sync.completed')!.data.result).toMatchObject({ clusterId: id, status: 'complete', added: 1 });
  });

  it('a receiver that never answers delays the exit by at most --webhook-wait, with a warning naming it', async () => {
    received.length = 0;
    const dead = url(hang, '/never');
    const file = config([`  - {url: "${dead}", events: ["*"]}`, `  - {url: "${url(receiver, '/hook')}", events: ["cluster.sync.completed"]}`], 'dead.yaml');
    const started = performance.now();
    const res = await runCli(['sync', '--config', file, '--webhook-wait', '2']);
    const seconds = (performance.now() - started) / 1000;
    expect(res.code).toBe(0);
    expect(res.stderr).toMatch(new RegExp(`^kubetrail: warning: \\d+ webhook deliveries not made within 2 s: ${dead.replace(/[/.]/g, '\\$&')}\\n$`));
    expect(seconds).toBeLessThan(15); // the sync, plus 2 s; without the bound a hanging receiver holds the exit ~23 s per event
    expect(received.map((r) => JSON.parse(r.body).event)).toEqual(['cluster.sync.completed']);
  }, 60_000);
});
