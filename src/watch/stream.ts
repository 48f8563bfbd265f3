// One watch request of one type, its body read as it streams: newline-delimited JSON watch events, each handed
// over (in order, one at a time) as soon as its line is complete. Only the current partial line is kept.
import { KubeError, statusError, type KubeClient } from '../kube/client.ts';
import type { KubeObject } from '../model/kube-object.ts';

export interface WatchEvent { type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR'; object: KubeObject & { code?: number; message?: string } }

/** Pure: splits a byte stream into lines; `push` returns the lines completed by a chunk. */
export class LineSplitter {
  private rest: Buffer = Buffer.alloc(0);
  push(chunk: Buffer): string[] {
    const buf = this.rest.length ? Buffer.concat([this.rest, chunk]) : chunk;
    const lines: string[] = [];
    let start = 0;
    for (let nl = buf.indexOf(10, start); nl >= 0; nl = buf.indexOf(10, start)) {
      const line = buf.subarray(start, nl).toString('utf8').trim();
      if (line) lines.push(line);
      start = nl + 1;
    }
    this.rest = Buffer.from(buf.subarray(start));
    return lines;
  }
  /** What is left when the stream ends (a last event without its newline). */
  end(): string[] {
    const line = this.rest.toString('utf8').trim();
    this.rest = Buffer.alloc(0);
    return line ? [line] : [];
  }
}

/** Pure: one line of a watch body as an event, or an error naming the type. */
export function parseWatchEvent(line: string, typeName: string): WatchEvent {
  let ev: WatchEvent;
  try {
    ev = JSON.parse(line) as WatchEvent;
  } catch (e) {
    throw new KubeError(`watch of ${typeName}: invalid JSON event: ${(e as Error).message.slice(0, 200)}`);
  }
  if (!ev || typeof ev.type !== 'string' || !ev.object || typeof ev.object !== 'object') throw new KubeError(`watch of ${typeName}: an event without type or object`);
  return ev;
}

/** A watch the server ended with 410 Gone (as a status or an ERROR event): the type must be listed again. */
export const isGone = (e: unknown) => e instanceof KubeError && e.status === 410;

/**
 * Watches `listPath` from `resourceVersion` until the server ends the watch (after `timeoutSeconds`), the
 * connection fails, or `signal` aborts. Resolves when the server ended it cleanly; ERROR events and non-2xx
 * answers become KubeErrors carrying their status (410: relist).
 */
export async function watchOnce(
  client: KubeClient, listPath: string, typeName: string, resourceVersion: string,
  onEvent: (ev: WatchEvent) => void | Promise<void>, o: { timeoutSeconds: number; signal?: AbortSignal },
): Promise<void> {
  const query = new URLSearchParams({
    watch: '1', allowWatchBookmarks: 'true', resourceVersion, timeoutSeconds: String(o.timeoutSeconds),
  });
  const path = `${listPath}?${query}`;
  const lines = new LineSplitter();
  // Ends the request early when an event fails (410 in an ERROR event), or when the caller stops the watch.
  const ending = new AbortController();
  const stop = () => ending.abort();
  if (o.signal?.aborted) stop();
  o.signal?.addEventListener('abort', stop, { once: true });
  let chain: Promise<void> = Promise.resolve();
  let failure: unknown;
  const handle = (line: string) => {
    chain = chain.then(async () => {
      if (failure) return;
      const ev = parseWatchEvent(line, typeName);
      if (ev.type === 'ERROR') {
        const code = typeof ev.object.code === 'number' ? ev.object.code : undefined;
        throw new KubeError(`watch of ${typeName}: ${ev.object.message ?? 'error event'}`, { status: code, retryable: code !== 410 });
      }
      await onEvent(ev);
    }).catch((e) => {
      failure ??= e;
      stop();
    });
  };
  let res;
  try {
    res = await client.request(path, {
      timeoutMs: (o.timeoutSeconds + 30) * 1000, signal: ending.signal,
      onChunk: (c) => { for (const l of lines.push(c)) handle(l); },
    });
  } catch (e) {
    await chain; // events already received are applied, even when the connection then failed
    throw failure ?? e;
  } finally {
    o.signal?.removeEventListener('abort', stop);
  }
  if (res.status < 200 || res.status >= 300) throw statusError(client.server, 'GET', path, res);
  for (const l of lines.end()) handle(l);
  await chain;
  if (failure) throw failure;
}
