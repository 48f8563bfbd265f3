// Webhooks: each event is POSTed as JSON, signed per Standard Webhooks (signature.ts). Every hook has its own
// bounded queue and worker, so a slow or dead receiver delays only its own deliveries; emitting only enqueues,
// so no receiver ever blocks or fails a sync. `close()` bounds how long a process waits for deliveries at exit.
import { randomUUID } from 'node:crypto';
import type { WebhookConfig } from '../config/types.ts';
import type { Log } from '../log.ts';
import type { SyncEventName, SyncEvents } from '../sync/events.ts';
import { signedHeaders } from './signature.ts';

export { LEGACY_SIGNATURE_HEADER as SIGNATURE_HEADER } from './signature.ts';

interface Delivery { event: string; body: string; id: string }

export interface WebhookOptions { maxQueue?: number; attempts?: number; timeoutMs?: number; backoffMs?: number }

export interface Undelivered { url: string; event: string; id: string }

/** Drops the (possibly huge) path lists from a sync result; receivers get counts and can ask the API for details. */
function payloadFor(name: string, payload: unknown): unknown {
  if (name === 'cluster.sync.completed') {
    const { result } = payload as { result: { changes?: unknown } };
    const { changes: _changes, ...rest } = result;
    return { result: rest };
  }
  return payload;
}

const sleep = (ms: number, signal: AbortSignal) => new Promise<void>((resolve) => {
  const timer = setTimeout(resolve, ms);
  signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
});

/** One receiver: its queue, drained by one worker in order. */
class HookQueue {
  readonly hook: WebhookConfig;
  readonly queue: Delivery[] = [];
  current?: Delivery;
  private worker?: Promise<void>;
  private running = false;
  private readonly secret?: string;
  private readonly o: Required<WebhookOptions>;
  private readonly log: Log;
  private readonly stopped: AbortSignal;
  dropped = 0;
  delivered = 0;
  failed = 0;

  constructor(hook: WebhookConfig, secret: string | undefined, o: Required<WebhookOptions>, log: Log, stopped: AbortSignal) {
    this.hook = hook;
    this.secret = secret;
    this.o = o;
    this.log = log;
    this.stopped = stopped;
  }

  push(d: Delivery): void {
    if (this.stopped.aborted) return;
    if (this.queue.length >= this.o.maxQueue) {
      this.queue.shift(); // the oldest goes: a dead receiver must not grow memory without bound
      this.dropped++;
    }
    this.queue.push(d);
    if (!this.running) {
      this.running = true;
      this.worker = this.drain();
    }
  }

  /** The worker while it runs, for waiting on it. */
  busy(): Promise<void> | undefined {
    return this.running ? this.worker : undefined;
  }

  private async drain(): Promise<void> {
    try {
      for (let d = this.queue.shift(); d && !this.stopped.aborted; d = this.queue.shift()) {
        this.current = d;
        await this.deliver(d);
        this.current = undefined;
      }
    } finally {
      this.running = false; // in the same turn as the last empty check: a push after it starts a new worker
    }
  }

  private async deliver(d: Delivery): Promise<void> {
    for (let attempt = 1; attempt <= this.o.attempts && !this.stopped.aborted; attempt++) {
      // Signed per attempt: a retry carries a fresh timestamp and stays inside the receiver's replay window.
      const headers = { 'Content-Type': 'application/json', 'X-Kubetrail-Event': d.event, 'X-Kubetrail-Delivery': d.id, ...signedHeaders(this.secret, d.id, d.body) };
      try {
        const signal = AbortSignal.any([AbortSignal.timeout(this.o.timeoutMs), this.stopped]);
        const res = await fetch(this.hook.url, { method: 'POST', headers, body: d.body, signal });
        await res.body?.cancel();
        if (res.ok) {
          this.delivered++;
          return;
        }
        if (res.status < 500 && res.status !== 429) break; // the receiver refuses this delivery: retrying will not help
      } catch { /* network error, timeout or close(): retry unless stopped */ }
      if (attempt < this.o.attempts) await sleep(this.o.backoffMs * 2 ** (attempt - 1), this.stopped);
    }
    if (this.stopped.aborted) return;
    this.failed++;
    this.log({ level: 'warn', msg: 'webhook delivery failed', url: this.hook.url, event: d.event, delivery: d.id });
  }
}

export class WebhookDispatcher {
  private readonly queues: HookQueue[];
  private readonly stop = new AbortController();

  constructor(hooks: WebhookConfig[], env: Record<string, string | undefined>, log: Log, o: WebhookOptions = {}) {
    const options = { maxQueue: o.maxQueue ?? 1000, attempts: o.attempts ?? 4, timeoutMs: o.timeoutMs ?? 5000, backoffMs: o.backoffMs ?? 500 };
    this.queues = hooks.map((hook) => new HookQueue(hook, hook.secretEnv ? env[hook.secretEnv] : undefined, options, log, this.stop.signal));
  }

  get dropped(): number { return this.queues.reduce((n, q) => n + q.dropped, 0); }
  get delivered(): number { return this.queues.reduce((n, q) => n + q.delivered, 0); }
  get failed(): number { return this.queues.reduce((n, q) => n + q.failed, 0); }

  attach(events: SyncEvents): () => void {
    return events.on('*', (payload, name) => this.enqueue(name, payload));
  }

  enqueue(name: SyncEventName, payload: unknown): void {
    const time = new Date().toISOString();
    for (const q of this.queues) {
      if (!q.hook.events.includes('*') && !q.hook.events.includes(name)) continue;
      const id = `msg_${randomUUID()}`;
      q.push({ event: name, id, body: JSON.stringify({ id, event: name, time, data: payloadFor(name, payload) }) });
    }
  }

  /** Resolves once every queue is empty (for shutdown and tests). */
  async flush(): Promise<void> {
    for (let busy = this.queues.map((q) => q.busy()).filter(Boolean); busy.length; busy = this.queues.map((q) => q.busy()).filter(Boolean)) {
      await Promise.all(busy);
    }
  }

  /** Waits up to `waitMs` for the queues to drain, then abandons the rest and returns what was not delivered. */
  async close(waitMs: number): Promise<Undelivered[]> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([this.flush(), new Promise((r) => (timer = setTimeout(r, waitMs)))]);
    clearTimeout(timer);
    const left = this.queues.flatMap((q) => [...(q.current ? [q.current] : []), ...q.queue].map((d) => ({ url: q.hook.url, event: d.event, id: d.id })));
    this.stop.abort();
    return left;
  }
}
