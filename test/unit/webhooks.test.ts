// The webhook dispatcher against real local HTTP receivers (node:http on 127.0.0.1): Standard Webhooks signatures
// checked with the `standardwebhooks` reference package, retries, bounded queues, one queue per hook, bounded exit.
import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { SyncEvents } from '../../src/sync/events.ts';
import { WebhookDispatcher } from '../../src/webhooks/webhooks.ts';

const listen = (server: Server) => new Promise<string>((r) => server.listen(0, '127.0.0.1', () => r(`http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`)));

describe('WebhookDispatcher', () => {
  const received: { headers: Record<string, string>; body: string; at: number }[] = [];
  let failFirst = 0;
  let url = '';
  let hangingUrl = '';
  const hanging: { destroy(): void }[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      if (failFirst > 0) {
        failFirst--;
        res.writeHead(503).end();
        return;
      }
      received.push({ headers: req.headers as Record<string, string>, body, at: performance.now() });
      res.end('ok');
    });
  });
  // Accepts connections and requests, and never answers.
  const hang = createServer((req) => { hanging.push(req.socket); });
  beforeAll(async () => {
    url = await listen(server);
    hangingUrl = await listen(hang);
  });
  afterAll(async () => {
    hanging.forEach((s) => s.destroy());
    await Promise.all([server, hang].map((s) => new Promise((r) => s.close(r))));
  });
  afterEach(() => vi.useRealTimers());
  const quiet = () => {};

  it('signs per Standard Webhooks: the reference verifier accepts it, a replay after 5 minutes and a forged timestamp are rejected', async () => {
    received.length = 0;
    const events = new SyncEvents();
    const d = new WebhookDispatcher([{ url, events: ['sync.failed'], secretEnv: 'S' }], { S: 'secret' }, quiet);
    d.attach(events);
    events.emit('cluster.sync.started', { clusterId: 'a', dryRun: false });
    events.emit('sync.failed', { clusterId: 'a', error: 'boom' });
    await d.flush();
    expect(received).toHaveLength(1);
    const { headers, body } = received[0];
    const verifier = new Webhook('secret', { format: 'raw' });
    expect(verifier.verify(body, headers)).toMatchObject({ id: headers['webhook-id'], event: 'sync.failed', data: { clusterId: 'a', error: 'boom' } });
    expect(headers['x-kubetrail-event']).toBe('sync.failed');
    expect(headers['x-kubetrail-signature-256']).toBe(`sha256=${createHmac('sha256', 'secret').update(body).digest('hex')}`); // legacy header

    expect(() => verifier.verify(body.replace('boom', 'BOOM'), headers)).toThrow(/No matching signature/);
    const forged = { ...headers, 'webhook-timestamp': String(Math.floor(Date.now() / 1000) + 60) } ;
    expect(() => verifier.verify(body, forged)).toThrow(/No matching signature/);
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + 6 * 60_000); // the same delivery, replayed six minutes later
    expect(() => verifier.verify(body, headers)).toThrow(/timestamp too old/);
  });

  it('a whsec_ secret is the base64 key the spec describes', async () => {
    received.length = 0;
    const secret = `whsec_${Buffer.from('0123456789abcdef0123456789abcdef').toString('base64')}`;
    const d = new WebhookDispatcher([{ url, events: ['*'], secretEnv: 'S' }], { S: secret }, quiet);
    d.enqueue('sync.failed', { clusterId: 'w', error: 'x' });
    await d.flush();
    expect(new Webhook(secret).verify(received[0].body, received[0].headers)).toMatchObject({ event: 'sync.failed' });
  });

  it('retries a failing receiver with backoff, then delivers with the same webhook-id', async () => {
    received.length = 0;
    failFirst = 2;
    const d = new WebhookDispatcher([{ url, events: ['*'] }], {}, quiet, { backoffMs: 10 });
    d.enqueue('sync.failed', { clusterId: 'b', error: 'x' });
    await d.flush();
    expect(received).toHaveLength(1);
    expect(received[0].headers['webhook-id']).toBe(JSON.parse(received[0].body).id);
    expect(d.delivered).toBe(1);
  });

  it('never blocks the emitter and drops the oldest deliveries beyond the queue bound', async () => {
    const d = new WebhookDispatcher([{ url: 'http://127.0.0.1:1/dead', events: ['*'] }], {}, quiet, { maxQueue: 5, attempts: 1, timeoutMs: 200 });
    const started = performance.now();
    for (let i = 0; i < 50; i++) d.enqueue('sync.failed', { clusterId: `c${i}`, error: 'x' });
    expect(performance.now() - started).toBeLessThan(200); // enqueueing does no I/O
    expect(d.dropped).toBeGreaterThanOrEqual(44);
    await d.flush();
    expect(d.failed).toBeLessThanOrEqual(6);
  });

  it('a receiver that never answers and a closed port delay only their own deliveries', async () => {
    received.length = 0;
    // Default timeouts and retries: each dead delivery takes about 23 s; the live hook must not wait for them.
    const d = new WebhookDispatcher([
      { url: hangingUrl, events: ['*'] }, { url: 'http://127.0.0.1:1/closed', events: ['*'] }, { url, events: ['*'] },
    ], {}, quiet);
    const started = performance.now();
    for (let i = 0; i < 5; i++) d.enqueue('sync.failed', { clusterId: `c${i}`, error: 'x' });
    await vi.waitFor(() => expect(received).toHaveLength(5), { timeout: 10_000 });
    expect(received.map((r) => JSON.parse(r.body).data.clusterId)).toEqual(['c0', 'c1', 'c2', 'c3', 'c4']);
    expect(Math.max(...received.map((r) => r.at)) - started).toBeLessThan(3000);
    const closing = performance.now();
    const left = await d.close(200);
    expect(performance.now() - closing).toBeLessThan(1000);
    expect(left.filter((l) => l.url === url)).toEqual([]);
    expect(left.filter((l) => l.url === hangingUrl)).toHaveLength(5);
  }, 30_000);

  it('close() waits for deliveries that can be made, and stops retrying the rest', async () => {
    received.length = 0;
    failFirst = 1;
    const d = new WebhookDispatcher([{ url, events: ['*'] }, { url: hangingUrl, events: ['*'] }], {}, quiet, { backoffMs: 50 });
    d.enqueue('change.detected', { clusterId: 'z' } as never);
    const started = performance.now();
    const left = await d.close(1500);
    expect(received).toHaveLength(1); // delivered on the second attempt, before close() returned
    expect(left).toEqual([{ url: hangingUrl, event: 'change.detected', id: expect.stringMatching(/^msg_/) }]);
    expect(performance.now() - started).toBeLessThan(2500);
  }, 30_000);
});
