// Paginated LIST of one type, yielded page by page so memory holds one page per type in flight.
import { KubeError, type KubeClient } from './client.ts';
import type { ResourceType } from './discovery.ts';

export type KubeObject = Record<string, unknown> & {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; ownerReferences?: { controller?: boolean }[]; [k: string]: unknown };
};

export interface Page {
  items: KubeObject[];
  /** True on the first page after the server expired our continue token (410): drop what this type yielded so far. */
  restarted: boolean;
}

interface ListResponse { items?: KubeObject[]; metadata?: { continue?: string } }

export interface ListOptions {
  pageSize: number;
  /** Namespaced types are listed per namespace when set (cluster-scoped types ignore it). */
  namespaces?: string[];
  maxRestarts?: number;
}

/** Lists every page of a type. Throws KubeError when the type cannot be listed completely. */
export async function* listAllPages(client: KubeClient, type: ResourceType, opts: ListOptions): AsyncGenerator<Page> {
  const bases = type.namespaced && opts.namespaces?.length
    ? opts.namespaces.map((ns) => type.listPath.replace(/\/([^/]+)$/, `/namespaces/${encodeURIComponent(ns)}/$1`))
    : [type.listPath];
  for (let attempt = 0; ; attempt++) {
    try {
      yield* listOnce(client, bases, opts.pageSize, attempt > 0);
      return;
    } catch (e) {
      // 410: the continue token expired (the list outlived etcd's history window), so start this type over.
      if (!(e instanceof KubeError && e.status === 410) || attempt >= (opts.maxRestarts ?? 3)) throw e;
    }
  }
}

// The next page is requested before the current one is handed over, so the server works while we process:
// at most two pages of a type are in memory.
async function* listOnce(client: KubeClient, bases: string[], pageSize: number, restarted: boolean): AsyncGenerator<Page> {
  const fetchPage = (base: string, cont: string) => {
    const query = new URLSearchParams({ limit: String(pageSize) });
    if (cont) query.set('continue', cont);
    return client.getJSON<ListResponse>(`${base}?${query}`);
  };
  for (const base of bases) {
    let next: Promise<ListResponse> | undefined = fetchPage(base, '');
    while (next) {
      const page: ListResponse = await next;
      const cont = page.metadata?.continue ?? '';
      next = cont ? fetchPage(base, cont) : undefined;
      next?.catch(() => {}); // surfaced when awaited; avoids an unhandled rejection if we stop early
      yield { items: page.items ?? [], restarted };
      restarted = false;
    }
  }
}
