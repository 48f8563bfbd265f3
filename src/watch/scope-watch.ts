// Keeps one list scope (a type, or a type in one namespace) of a watched cluster current: list, then watch from
// the list's resourceVersion with bookmarks; a watch that ends resumes from the last resourceVersion seen, 410
// Gone lists again (the list replaces the scope: no spurious deletion), other failures retry with backoff, and a
// type that cannot be watched (403/405 on watch) is listed again every window instead.
import type { DiscoverySettings } from '../config/types.ts';
import { KubeError, type KubeClient } from '../kube/client.ts';
import { listItems } from '../kube/list.ts';
import type { KubeObject } from '../model/kube-object.ts';
import type { ResourceType } from '../model/resource-type.ts';
import { isGone, watchOnce, type WatchEvent } from './stream.ts';
import { keptPath, objectPathOf, replaceScope, scopePrefix, unchangedEntry, type Entry, type WatchedFiles } from './files.ts';

export interface ScopeContext {
  client: KubeClient;
  settings: DiscoverySettings;
  /** The cluster's files, shared by all its scopes. */
  files: WatchedFiles;
  /** Renders an object as a sync would, stores its blob, and returns its entry. */
  render(type: ResourceType, obj: KubeObject, path: string): Promise<Entry>;
  ignoresObject(type: ResourceType): ((meta: NonNullable<KubeObject['metadata']>) => boolean) | undefined;
  /** Something in `files` changed: the next window commits. */
  changed(): void;
  /** A type that cannot be watched, said once; a scope that fails (undefined: it works again). */
  unwatchable(type: ResourceType, reason: string): void;
  failing(type: ResourceType, reason: string | undefined): void;
  /** How often an unwatchable scope is listed again (the commit interval). */
  relistMs: number;
  /** How long the server keeps one watch open before we open the next (from the last resourceVersion). */
  watchTimeoutSeconds: number;
}

/** Waits `ms`, or less when `signal` aborts first. */
export const sleep = (ms: number, signal: AbortSignal) => new Promise<void>((resolve) => {
  const t = setTimeout(done, ms);
  function done() {
    clearTimeout(t);
    signal.removeEventListener('abort', done);
    resolve();
  }
  signal.addEventListener('abort', done, { once: true });
});

/** Reconnect delays: 0.5 s doubling to 30 s (an apiserver restart is survived without hammering it). */
export const backoffMs = (failures: number) => Math.min(500 * 2 ** Math.max(0, failures - 1), 30_000);

const inNamespace = (listPath: string, ns: string) => listPath.replace(/\/([^/]+)$/, `/namespaces/${encodeURIComponent(ns)}/$1`);
/** Where one scope (a type, or a type in one namespace) is listed and watched. */
export const scopeListPath = (type: ResourceType, namespace: string | undefined) => (namespace === undefined ? type.listPath : inNamespace(type.listPath, namespace));

/** Runs until `signal` aborts. */
export async function watchScope(ctx: ScopeContext, type: ResourceType, namespace: string | undefined, signal: AbortSignal): Promise<void> {
  const base = scopeListPath(type, namespace);
  const prefix = scopePrefix(type, namespace);
  let resourceVersion: string | undefined;
  let failures = 0;
  let watchable = true;
  while (!signal.aborted) {
    try {
      if (resourceVersion === undefined) {
        resourceVersion = await relist(ctx, type, base, prefix);
        ctx.failing(type, undefined);
      }
      if (!watchable) {
        await sleep(ctx.relistMs, signal);
        resourceVersion = undefined;
        continue;
      }
      await watchOnce(ctx.client, base, type.name, resourceVersion, async (ev) => {
        resourceVersion = await apply(ctx, type, prefix, ev) ?? resourceVersion;
      }, { timeoutSeconds: ctx.watchTimeoutSeconds, signal });
      failures = 0;
    } catch (e) {
      if (signal.aborted) return;
      if (isGone(e)) {
        resourceVersion = undefined; // history compacted past our resourceVersion: the list says what is there now
        continue;
      }
      const status = e instanceof KubeError ? e.status : undefined;
      if (resourceVersion !== undefined && (status === 403 || status === 405)) {
        watchable = false;
        ctx.unwatchable(type, (e as Error).message);
        continue;
      }
      failures++;
      ctx.failing(type, (e as Error).message);
      await sleep(backoffMs(failures), signal);
    }
  }
}

/** One event applied to the files; returns the resourceVersion to resume from. */
async function apply(ctx: ScopeContext, type: ResourceType, prefix: string, ev: WatchEvent): Promise<string | undefined> {
  const obj = ev.object;
  const rv = typeof obj.metadata?.resourceVersion === 'string' ? obj.metadata.resourceVersion : undefined;
  if (ev.type === 'BOOKMARK') return rv;
  const path = ev.type === 'DELETED' ? undefined : keptPath(type, obj, ctx.settings, ctx.ignoresObject(type));
  if (path === undefined) {
    // Gone, or no longer kept by the rules (a sync would not list it): its file goes.
    const old = objectPathOf(type, obj);
    if (old !== undefined && old.startsWith(prefix) && ctx.files.delete(old)) ctx.changed();
    return rv;
  }
  if (unchangedEntry(ctx.files, path, rv)) return rv;
  const entry = await ctx.render(type, obj, path);
  if (ctx.files.get(path)?.oid !== entry.oid) ctx.changed();
  ctx.files.set(path, entry);
  return rv;
}

interface ListAnswer { items?: KubeObject[]; metadata?: { continue?: string; resourceVersion?: string } }

/**
 * Lists the scope page by page (the pages share one snapshot, whose resourceVersion the watch starts from) and
 * replaces the scope's files with what it lists. A continue token that expired (410) lists again from the start.
 */
async function relist(ctx: ScopeContext, type: ResourceType, base: string, prefix: string): Promise<string> {
  if (type.invalid) throw new Error(type.invalid);
  for (let attempt = 0; ; attempt++) {
    const listed = new Map<string, Entry>();
    let cont = '';
    let version = '';
    try {
      do {
        const query = new URLSearchParams({ limit: String(ctx.settings.pageSize) });
        if (cont) query.set('continue', cont);
        const answer = await ctx.client.getJSON<ListAnswer>(`${base}?${query}`);
        for (const obj of listItems(answer, `list of ${type.name}`)) {
          const path = keptPath(type, obj, ctx.settings, ctx.ignoresObject(type));
          if (path === undefined) continue;
          const rv = typeof obj.metadata?.resourceVersion === 'string' ? obj.metadata.resourceVersion : undefined;
          listed.set(path, unchangedEntry(ctx.files, path, rv) ?? await ctx.render(type, obj, path));
        }
        cont = answer.metadata?.continue ?? '';
        version = answer.metadata?.resourceVersion ?? version;
      } while (cont);
    } catch (e) {
      if (isGone(e) && cont && attempt < 3) continue;
      throw e;
    }
    if (replaceScope(ctx.files, prefix, listed) > 0) ctx.changed();
    return version;
  }
}
