// Reads every object of one type as `[path, blob id]`. A type on record is listed as metadata first: an object
// whose resourceVersion is the one recorded is the recorded blob (render cache), so only the objects that
// changed are read in full: one GET each, or one more full list when many changed or GET is not allowed.
import type { DiscoverySettings } from '../config/types.ts';
import { KubeError, type KubeClient } from '../kube/client.ts';
import type { ResourceType } from '../model/resource-type.ts';
import { isControlled, namespaceAllowed } from '../kube/filter.ts';
import { getObject, listAllPages } from '../kube/list.ts';
import type { KubeObject } from '../model/kube-object.ts';
import { pathInCluster } from '../model/object-path.ts';
import type { FileMap } from '../store/repo.ts';
import { mapLimit } from '../util/map-limit.ts';
import { RenderCache } from './render-cache.ts';

// More than 1 in REFETCH_LIMIT objects of a type changed: one full list costs less than a GET for each.
const REFETCH_LIMIT = 50;

const urlSegment = (s: string | undefined) => s === undefined || (s !== '.' && s !== '..' && !s.includes('/') && !s.includes('\\'));

export interface TypeSource {
  client: KubeClient;
  settings: DiscoverySettings;
  cache: RenderCache;
  /** The cluster's files as the last sync recorded them. */
  before: FileMap;
  /** Objects left out by rules on their metadata (`ignoreObjects`): decided before any read in full. */
  ignoresObject?: (meta: NonNullable<KubeObject['metadata']>) => boolean;
}

/**
 * Every object of `type` that the settings keep, as `[path, blob id]`. `blobOf` renders (and stores) an object
 * read in full; `onRecord` says the last sync recorded objects of this type, so metadata may be enough.
 */
export async function readType(
  source: TypeSource, type: ResourceType, blobOf: (obj: KubeObject) => string | Promise<string>, onRecord: boolean,
): Promise<[path: string, oid: string][]> {
  const { client, settings, cache, before } = source;
  if (type.invalid) throw new Error(type.invalid);
  const files: [path: string, oid: string][] = [];
  const stale: NonNullable<KubeObject['metadata']>[] = []; // listed as metadata only, changed since recorded
  const keep = (key: string | undefined, path: string, oid: string): undefined => {
    cache.set(key, oid);
    files.push([path, oid]);
    return undefined;
  };
  // A Promise only when `blobOf` returns one (Secrets in sops mode: age is async); every other object stays synchronous.
  const record = (obj: KubeObject, metadataOnly: boolean): Promise<void> | undefined => {
    const meta = obj.metadata ?? {};
    if (typeof meta.name !== 'string' || !meta.name) return; // an item without a name cannot have a file
    if (meta.namespace !== undefined && typeof meta.namespace !== 'string') throw new Error(`${type.name}: object "${meta.name}" has a namespace that is not a string`);
    if (!namespaceAllowed(meta.namespace, settings)) return;
    if (settings.defaultIgnores.ownedObjects && isControlled(obj)) return;
    if (source.ignoresObject?.(meta)) return;
    const path = pathInCluster(type.name, meta.namespace, meta.name);
    const key = RenderCache.key(type.name, meta.uid, meta.resourceVersion);
    const oid = cache.get(key);
    if (oid !== undefined && before.get(path) === oid) return keep(key, path, oid);
    if (metadataOnly) {
      stale.push(meta);
      return undefined;
    }
    const rendered = blobOf(obj);
    if (typeof rendered !== 'string') return rendered.then((id) => keep(key, path, id));
    keep(key, path, rendered);
  };
  const list = async (metadataOnly: boolean) => {
    let scope = -1;
    let mark = { files: 0, stale: 0 }; // where the current scope (namespace) began
    for await (const page of listAllPages(client, type, { pageSize: settings.pageSize, namespaces: settings.namespaces, metadataOnly })) {
      if (page.scope !== scope) [scope, mark] = [page.scope, { files: files.length, stale: stale.length }];
      if (page.restarted) [files.length, stale.length] = [mark.files, mark.stale];
      for (const obj of page.items) {
        const pending = record(obj, page.metadataOnly);
        if (pending) await pending;
      }
    }
  };
  // False when the sync may list the type but not get its objects.
  const fetchEach = async () => {
    try {
      const fetched = await mapLimit(stale, settings.concurrency, (m) => getObject(client, type, m.namespace, m.name!));
      for (const obj of fetched) {
        const pending = obj && record(obj, false); // undefined: deleted since the list
        if (pending) await pending;
      }
      return true;
    } catch (e) {
      if (e instanceof KubeError && e.status === 403) return false;
      throw e;
    }
  };

  await list(onRecord && cache.size > 0);
  if (stale.length > 0) {
    // A name like `..` or `a/b` cannot be one URL segment (URLs resolve dot segments): such objects come from a list.
    const few = stale.length * REFETCH_LIMIT <= files.length + stale.length && stale.every((m) => urlSegment(m.name) && urlSegment(m.namespace));
    if (!(few && await fetchEach())) {
      files.length = stale.length = 0;
      await list(false);
    }
  }
  return files;
}
