// Pure: a watched cluster's files, `path → blob id` (+ the resourceVersion each was rendered from), and how a
// watch event or a fresh list of one scope (a type, or a type in one namespace) changes them.
import type { DiscoverySettings } from '../config/types.ts';
import { isControlled, namespaceAllowed } from '../kube/filter.ts';
import type { KubeObject } from '../model/kube-object.ts';
import { pathInCluster } from '../model/object-path.ts';
import type { ResourceType } from '../model/resource-type.ts';

/** What a watched cluster keeps per object: its file's blob id and the resourceVersion it was rendered from. */
export interface Entry { oid: string; resourceVersion?: string }

export type WatchedFiles = Map<string, Entry>;

/**
 * The path a sync would record `obj` at, or undefined when a sync leaves it out: no name, a namespace not
 * selected, owned by a controller (defaultIgnores.ownedObjects), or an `ignoreObjects` rule. Same rules as read-type.ts.
 */
export function keptPath(
  type: ResourceType, obj: KubeObject, settings: DiscoverySettings,
  ignoresObject?: (meta: NonNullable<KubeObject['metadata']>) => boolean,
): string | undefined {
  const meta = obj.metadata;
  if (!meta || typeof meta.name !== 'string' || !meta.name) return undefined;
  if (meta.namespace !== undefined && typeof meta.namespace !== 'string') return undefined;
  if (!namespaceAllowed(meta.namespace, settings)) return undefined;
  if (settings.defaultIgnores.ownedObjects && isControlled(obj)) return undefined;
  if (ignoresObject?.(meta)) return undefined;
  return pathInCluster(type.name, meta.namespace, meta.name);
}

/** The path of an object that is gone (a DELETED event): where it was recorded, whatever the rules say now. */
export function objectPathOf(type: ResourceType, obj: KubeObject): string | undefined {
  const meta = obj.metadata;
  if (!meta || typeof meta.name !== 'string' || !meta.name) return undefined;
  return pathInCluster(type.name, typeof meta.namespace === 'string' ? meta.namespace : undefined, meta.name);
}

/** The directory prefix of a list scope: `type/` for the whole type, `type/<namespace dir>/` for one namespace. */
export function scopePrefix(type: ResourceType, namespace: string | undefined): string {
  if (namespace === undefined) return `${type.name}/`;
  const p = pathInCluster(type.name, namespace, 'x');
  return p.slice(0, p.lastIndexOf('/') + 1);
}

/**
 * A fresh list of one scope replaces what the scope had: listed objects are set, objects of the scope that the
 * list no longer has are deleted (and nothing else). Returns how many entries changed.
 */
export function replaceScope(files: WatchedFiles, prefix: string, listed: Map<string, Entry>): number {
  let changed = 0;
  for (const path of [...files.keys()]) {
    if (path.startsWith(prefix) && !listed.has(path)) {
      files.delete(path);
      changed++;
    }
  }
  for (const [path, entry] of listed) {
    if (files.get(path)?.oid !== entry.oid) changed++;
    files.set(path, entry);
  }
  return changed;
}

/** Drops every entry under `prefix` (a type no longer served): a sync would not list it any more. */
export function dropScope(files: WatchedFiles, prefix: string): number {
  return replaceScope(files, prefix, new Map());
}

/** The entry to reuse for an object whose resourceVersion is the one its file was rendered from. */
export function unchangedEntry(files: WatchedFiles, path: string, resourceVersion: string | undefined): Entry | undefined {
  const e = files.get(path);
  return e && resourceVersion !== undefined && e.resourceVersion === resourceVersion ? e : undefined;
}

/** The blob ids alone, as a sync's FileMap. */
export function fileMap(files: WatchedFiles): Map<string, string> {
  const out = new Map<string, string>();
  for (const [p, e] of files) out.set(p, e.oid);
  return out;
}
