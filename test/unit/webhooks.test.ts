// The webhook dispatcher against a real local HTTP receiver: signatures, retries, a bounded queue.
import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SyncEvents } from '../../src/sync/events.ts';
import { WebhookDispatcher } from '../../src/webhooks/webhooks.ts';

describe('WebhookDispatcher', () => {
  const received: { headers: Record<string, unknown>; body: string }[] = [];
  let failFirst = 0;
  let url = '';
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      if (failFirst > 0) {
        failFirst--;
        res.writeHead(503).end();
        return;
      }
      received.push({ headers: req.headers, body });
      res.end('ok');
    });
  });
  beforeAll(() => new Promise<void>((r) => server.listen(0, '127.0.0.1', () => {
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
    r();
  })));
  afterAll(() => new Promise<void>((r) => server.close(() => r())));
  const quiet = () => {};

  it('signs each delivery with HMAC-SHA256 over the exact body and filters by event', async () => {
    received.length = 0;
    const events = new SyncEvents();
    const d = new WebhookDispatcher([{ url, events: ['sync.failed'], secretEnv: 'S' }], { S: 'secret' }, quiet);
    d.attach(events);
    events.emit('cluster.sync.started', { clusterId: 'a', dryRun: false });
    events.emit('sync.failed', { clusterId: 'a', error: 'boom' });
    await d.flush();
    expect(received).toHaveLength(1);
    const { headers, body } = received[0];
    expect(headers['x-kubetrail-event']).toBe('sync.failed');
    expect(headers['x-kubetrail-signature-256']).toBe(`sha256=${createHmac('sha256', 'secret').update(body).digest('hex')}`);
    expect(JSON.parse(body)).toMatchObject({ event: 'sync.failed', data: { clusterId: 'a', error: 'boom' } });
  });

  it('retries a failing receiver with backoff, then delivers', async () => {
    received.length = 0;
    failFirst = 2;
    const d = new WebhookDispatcher([{ url, events: ['*'] }], {}, quiet, { backoffMs: 10 });
    d.enqueue('sync.failed', { clusterId: 'b', error: 'x' });
    await d.flush();
    expect(received).toHaveLength(1);
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
});
