// Paginated LIST of one type, yielded page by page so memory holds one page per type in flight; GET of one object.
import { KubeError, type KubeClient } from './client.ts';
import type { ResourceType } from '../model/resource-type.ts';
import type { KubeObject } from '../model/kube-object.ts';


export interface Page {
  items: KubeObject[];
  /**
   * True on a page that replaces what this type yielded for the same `scope` so far: the server expired our
   * continue token (410) and the scope was listed again in one unpaginated request.
   */
  restarted: boolean;
  /** Which namespace of `ListOptions.namespaces` (its index; 0 when the type is listed across namespaces). */
  scope: number;
  /** The items carry only their metadata (the server honoured `metadataOnly`; aggregated APIs may not). */
  metadataOnly: boolean;
}

interface ListResponse { kind?: string; items?: KubeObject[]; metadata?: { continue?: string } }

export interface ListOptions {
  pageSize: number;
  /** Namespaced types are listed per namespace when set (cluster-scoped types ignore it). */
  namespaces?: string[];
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

/**
 * Lists every page of a type. Throws KubeError when the type cannot be listed completely.
 *
 * A page over the client's response size limit is asked for again with a tenth of the objects (the continue
 * token does not depend on the page size). A continue token the server no longer honours (410 Gone: the list
 * took longer than etcd keeps history) is answered as client-go's pager does: one unpaginated list of that
 * scope, within the same size limit, yielded as a `restarted` page.
 */
export async function* listAllPages(client: KubeClient, type: ResourceType, opts: ListOptions): AsyncGenerator<Page> {
  const bases = type.namespaced && opts.namespaces?.length
    ? opts.namespaces.map((ns) => inNamespace(type.listPath, ns))
    : [type.listPath];
  const accept = opts.metadataOnly ? METADATA_ONLY : undefined;
  for (let scope = 0; scope < bases.length; scope++) yield* listScope(client, type, bases[scope], scope, opts.pageSize, accept);
}

/** Pure: the items of a list answer, or an error naming what is wrong (a missing or non-array `items` is no list). */
export function listItems(page: unknown, what: string): KubeObject[] {
  const items = (page as ListResponse | null)?.items;
  if (items === null && typeof page === 'object') return []; // Go encodes an empty slice so
  if (!Array.isArray(items)) throw new KubeError(`${what}: the answer is not a list (no items array)`);
  for (let i = 0; i < items.length; i++) {
    const item = items[i];
    if (item === null || typeof item !== 'object' || Array.isArray(item)) throw new KubeError(`${what}: items[${i}] is not an object`);
  }
  return items;
}

// The next page is requested before the current one is handed over, so the server works while we process:
// at most two pages of a type are in memory.
async function* listScope(
  client: KubeClient, type: ResourceType, base: string, scope: number, pageSize: number, accept: string | undefined,
): AsyncGenerator<Page> {
  let limit = pageSize;
  const fetchPage = async (cont: string): Promise<ListResponse> => {
    for (;;) {
      const query = new URLSearchParams({ limit: String(limit) });
      if (cont) query.set('continue', cont);
      try {
        return await client.getJSON<ListResponse>(`${base}?${query}`, { accept });
      } catch (e) {
        if (e instanceof KubeError && e.tooLarge && limit > 1) limit = Math.max(1, Math.floor(limit / 10));
        else throw e;
      }
    }
  };
  const page = (answer: ListResponse, restarted: boolean): Page =>
    ({ items: listItems(answer, `list of ${type.name}`), restarted, scope, metadataOnly: answer.kind === 'PartialObjectMetadataList' });
  let next: Promise<ListResponse> | undefined = fetchPage('');
  let cont = '';
  while (next) {
    let answer: ListResponse;
    try {
      answer = await next;
    } catch (e) {
      if (!(e instanceof KubeError && e.status === 410 && cont)) throw e;
      yield page(await client.getJSON<ListResponse>(base, { accept }), true); // client-go's FullListIfExpired
      return;
    }
    const current = page(answer, false);
    cont = answer.metadata?.continue ?? '';
    next = cont ? fetchPage(cont) : undefined;
    next?.catch(() => {}); // surfaced when awaited; avoids an unhandled rejection if we stop early
    yield current;
  }
}
