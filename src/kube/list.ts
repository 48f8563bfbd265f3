// Paginated LIST of one type, yielded page by page so memory holds one page per type in flight; GET of one object.
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
  /** The items carry only their metadata (the server honoured `metadataOnly`; aggregated APIs may not). */
  metadataOnly: boolean;
}

interface ListResponse { kind?: string; items?: KubeObject[]; metadata?: { continue?: string } }

export interface ListOptions {
  pageSize: number;
  /** Namespaced types are listed per namespace when set (cluster-scoped types ignore it). */
  namespaces?: string[];
  maxRestarts?: number;
  /**
   * Ask for PartialObjectMetadataList: names, uids and resourceVersions without the objects' bodies, a fraction
   * of the bytes. `application/json` stays acceptable, so a server that cannot answer so sends the full list.
   */
  metadataOnly?: boolean;
}

const METADATA_ONLY = 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json';

/** A namespaced type's list path narrowed to one namespace: `/api/v1/configmaps` → `/api/v1/namespaces/ns/configmaps`. */
const inNamespace = (listPath: string, namespace: string) => listPath.replace(/\/([^/]+)$/, `/namespaces/${encodeURIComponent(namespace)}/$1`);

/** One object, or undefined when it no longer exists. */
export async function getObject(client: KubeClient, type: ResourceType, namespace: string | undefined, name: string): Promise<KubeObject | undefined> {
  const base = type.namespaced && namespace ? inNamespace(type.listPath, namespace) : type.listPath;
  try {
    return await client.getJSON<KubeObject>(`${base}/${encodeURIComponent(name)}`);
  } catch (e) {
    if (e instanceof KubeError && e.status === 404) return undefined;
    throw e;
  }
}

/** Lists every page of a type. Throws KubeError when the type cannot be listed completely. */
export async function* listAllPages(client: KubeClient, type: ResourceType, opts: ListOptions): AsyncGenerator<Page> {
  const bases = type.namespaced && opts.namespaces?.length
    ? opts.namespaces.map((ns) => inNamespace(type.listPath, ns))
    : [type.listPath];
  const accept = opts.metadataOnly ? METADATA_ONLY : undefined;
  for (let attempt = 0; ; attempt++) {
    try {
      yield* listOnce(client, bases, opts.pageSize, accept, attempt > 0);
      return;
    } catch (e) {
      // 410: the continue token expired (the list outlived etcd's history window), so start this type over.
      if (!(e instanceof KubeError && e.status === 410) || attempt >= (opts.maxRestarts ?? 3)) throw e;
    }
  }
}

// The next page is requested before the current one is handed over, so the server works while we process:
// at most two pages of a type are in memory.
async function* listOnce(client: KubeClient, bases: string[], pageSize: number, accept: string | undefined, restarted: boolean): AsyncGenerator<Page> {
  const fetchPage = (base: string, cont: string) => {
    const query = new URLSearchParams({ limit: String(pageSize) });
    if (cont) query.set('continue', cont);
    return client.getJSON<ListResponse>(`${base}?${query}`, { accept });
  };
  for (const base of bases) {
    let next: Promise<ListResponse> | undefined = fetchPage(base, '');
    while (next) {
      const page: ListResponse = await next;
      const cont = page.metadata?.continue ?? '';
      next = cont ? fetchPage(base, cont) : undefined;
      next?.catch(() => {}); // surfaced when awaited; avoids an unhandled rejection if we stop early
      yield { items: page.items ?? [], restarted, metadataOnly: page.kind === 'PartialObjectMetadataList' };
      restarted = false;
    }
  }
}
