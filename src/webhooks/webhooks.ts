// Webhooks: each event is POSTed as JSON with an HMAC-SHA256 signature. Deliveries go through a bounded queue
// with retries; a slow or dead receiver never blocks or fails a sync (emitting only enqueues).
import { createHmac, randomUUID } from 'node:crypto';
import type { WebhookConfig } from '../config/types.ts';
import type { Log } from '../log.ts';
import type { SyncEventName, SyncEvents } from '../sync/events.ts';

export const SIGNATURE_HEADER = 'X-Kubetrail-Signature-256';

interface Delivery { hook: WebhookConfig; secret?: string; event: string; body: string; id: string }

export interface WebhookOptions { maxQueue?: number; attempts?: number; timeoutMs?: number; backoffMs?: number }

export function signature(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** Drops the (possibly huge) path lists from a sync result; receivers get counts and can ask the API for details. */
function payloadFor(name: string, payload: unknown): unknown {
  if (name === 'cluster.sync.completed') {
    const { result } = payload as { result: { changes?: unknown } };
    const { changes: _changes, ...rest } = result;
    return { result: rest };
  }
  return payload;
}

export class WebhookDispatcher {
  private readonly queue: Delivery[] = [];
  private running = false;
  private readonly hooks: WebhookConfig[];
  private readonly env: Record<string, string | undefined>;
  private readonly log: Log;
  private readonly o: Required<WebhookOptions>;
  dropped = 0;
  delivered = 0;
  failed = 0;

  constructor(hooks: WebhookConfig[], env: Record<string, string | undefined>, log: Log, o: WebhookOptions = {}) {
    this.hooks = hooks;
    this.env = env;
    this.log = log;
    this.o = { maxQueue: o.maxQueue ?? 1000, attempts: o.attempts ?? 4, timeoutMs: o.timeoutMs ?? 5000, backoffMs: o.backoffMs ?? 500 };
  }

  attach(events: SyncEvents): () => void {
    return events.on('*', (payload, name) => this.enqueue(name, payload));
  }

  enqueue(name: SyncEventName, payload: unknown): void {
    for (const hook of this.hooks) {
      if (!hook.events.includes('*') && !hook.events.includes(name)) continue;
      const id = randomUUID();
      const body = JSON.stringify({ id, event: name, time: new Date().toISOString(), data: payloadFor(name, payload) });
      if (this.queue.length >= this.o.maxQueue) {
        this.queue.shift(); // the oldest goes: a dead receiver must not grow memory without bound
        this.dropped++;
      }
      this.queue.push({ hook, secret: hook.secretEnv ? this.env[hook.secretEnv] : undefined, event: name, body, id });
    }
    if (!this.running) void this.drain();
  }

  /** Resolves once the queue is empty (for shutdown and tests). */
  async flush(): Promise<void> {
    while (this.running || this.queue.length) await new Promise((r) => setTimeout(r, 20));
  }

  private async drain(): Promise<void> {
    this.running = true;
    try {
      for (let d = this.queue.shift(); d; d = this.queue.shift()) await this.deliver(d);
    } finally {
      this.running = false;
    }
  }

  private async deliver(d: Delivery): Promise<void> {
    const headers: Record<string, string> = { 'Content-Type': 'application/json', 'X-Kubetrail-Event': d.event, 'X-Kubetrail-Delivery': d.id };
    if (d.secret) headers[SIGNATURE_HEADER] = signature(d.secret, d.body);
    for (let attempt = 1; attempt <= this.o.attempts; attempt++) {
      try {
        const res = await fetch(d.hook.url, { method: 'POST', headers, body: d.body, signal: AbortSignal.timeout(this.o.timeoutMs) });
        await res.body?.cancel();
        if (res.ok) {
          this.delivered++;
          return;
        }
        if (res.status < 500 && res.status !== 429) break; // the receiver refuses this delivery: retrying will not help
      } catch { /* network error or timeout: retry */ }
      if (attempt < this.o.attempts) await new Promise((r) => setTimeout(r, this.o.backoffMs * 2 ** (attempt - 1)));
    }
    this.failed++;
    this.log({ level: 'warn', msg: 'webhook delivery failed', url: d.hook.url, event: d.event, delivery: d.id });
  }
}
