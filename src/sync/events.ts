// Sync events, for library users, webhooks and logs. Handlers never break a sync: their errors are swallowed.
import type { SyncResult } from './result.ts';

export interface SyncEventMap {
  'cluster.sync.started': { clusterId: string; dryRun: boolean };
  'cluster.sync.completed': { result: SyncResult };
  'resource.discovered': { clusterId: string; type: string; namespaced: boolean };
  'resource.deleted': { clusterId: string; path: string };
  'change.detected': { clusterId: string; commit: string; added: string[]; changed: string[]; deleted: string[] };
  'sync.failed': { clusterId: string; error: string };
}
export type SyncEventName = keyof SyncEventMap;

export class SyncEvents {
  private readonly handlers = new Map<string, Set<(payload: unknown, name: string) => void>>();

  /** `'*'` receives every event with its name. Returns an unsubscribe function. */
  on<K extends SyncEventName>(name: K | '*', handler: (payload: SyncEventMap[K], name: K) => void): () => void {
    const set = this.handlers.get(name) ?? new Set();
    set.add(handler as (payload: unknown, name: string) => void);
    this.handlers.set(name, set);
    return () => set.delete(handler as (payload: unknown, name: string) => void);
  }

  emit<K extends SyncEventName>(name: K, payload: SyncEventMap[K]): void {
    for (const key of [name, '*']) {
      for (const handler of this.handlers.get(key) ?? []) {
        try {
          handler(payload, name);
        } catch { /* a listener's failure is its own */ }
      }
    }
  }
}
