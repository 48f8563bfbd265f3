// Pure: the fields the apiserver or a controller sets or allocates, which an export leaves out so that
// `kubectl apply` of it creates the objects anew. The one list of them (documented in the README).
import type { KubeObject } from '../model/kube-object.ts';
import { compileTypePattern, parseTypeName, type TypePattern } from '../model/type-name.ts';

export interface ServerSetField {
  /** Type pattern (see model/type-name.ts): the types this field is stripped from. */
  types: string;
  /** Path of keys from the object's root. */
  path: string[];
  why: string;
  /** The field stays when its value says something the user chose (a headless Service's `None`). */
  keep?: (value: unknown) => boolean;
}

const headless = (v: unknown) => v === 'None' || (Array.isArray(v) && v.length === 1 && v[0] === 'None');

export const SERVER_SET_FIELDS: readonly ServerSetField[] = [
  { types: '*', path: ['metadata', 'uid'], why: 'assigned at creation' },
  { types: '*', path: ['metadata', 'creationTimestamp'], why: 'assigned at creation' },
  { types: '*', path: ['metadata', 'resourceVersion'], why: 'optimistic-concurrency token of the stored object' },
  { types: '*', path: ['metadata', 'generation'], why: 'counted by the apiserver' },
  { types: '*', path: ['metadata', 'selfLink'], why: 'set by old apiservers' },
  { types: '*', path: ['metadata', 'managedFields'], why: 'server-side apply bookkeeping' },
  { types: '*', path: ['metadata', 'deletionTimestamp'], why: 'set while an object is being deleted' },
  { types: '*', path: ['metadata', 'deletionGracePeriodSeconds'], why: 'set while an object is being deleted' },
  { types: '*', path: ['status'], why: 'written by controllers, not by apply' },
  { types: 'core.*.Service', path: ['spec', 'clusterIP'], why: 'allocated from the service CIDR (kept when None: headless)', keep: headless },
  { types: 'core.*.Service', path: ['spec', 'clusterIPs'], why: 'allocated from the service CIDR (kept when None: headless)', keep: headless },
  { types: 'core.*.PersistentVolume', path: ['spec', 'claimRef', 'uid'], why: 'the bound claim\'s uid: a restored claim has a new one' },
  { types: 'core.*.PersistentVolume', path: ['spec', 'claimRef', 'resourceVersion'], why: 'the bound claim\'s resourceVersion' },
  { types: 'core.*.Pod', path: ['spec', 'nodeName'], why: 'chosen by the scheduler' },
  { types: 'batch.*.Job', path: ['spec', 'selector'], why: 'generated from the Job\'s uid (apply refuses a stale one)' },
  { types: 'batch.*.Job', path: ['spec', 'template', 'metadata', 'labels', 'controller-uid'], why: 'the Job\'s uid' },
  { types: 'batch.*.Job', path: ['spec', 'template', 'metadata', 'labels', 'batch.kubernetes.io/controller-uid'], why: 'the Job\'s uid' },
];

const COMPILED: { field: ServerSetField; pattern: TypePattern }[] = SERVER_SET_FIELDS.map((field) => ({ field, pattern: compileTypePattern(field.types) }));

/** Identifies an object that may own others: an ownerReference names its apiVersion, kind and name. */
export const ownerKey = (apiVersion: unknown, kind: unknown, namespace: string | undefined, name: unknown) =>
  JSON.stringify([String(apiVersion).split('/').length > 1 ? String(apiVersion).split('/')[0] : '', kind, namespace ?? '', name]);

/**
 * A copy of `obj` (stored as type `typeName`) without the server-set fields, and without the ownerReferences
 * whose owner `exported` does not hold (an owner in the export keeps its reference; see the README).
 */
export function stripServerFields(obj: KubeObject, typeName: string, exported?: (ownerKey: string) => boolean): KubeObject {
  const type = parseTypeName(typeName);
  const copy = structuredClone(obj);
  for (const { field, pattern } of COMPILED) {
    if (type && pattern.matches(type)) removePath(copy, field.path, field.keep);
  }
  const meta = copy.metadata as Record<string, unknown> | undefined;
  if (meta && Array.isArray(meta.ownerReferences)) {
    const namespace = typeof meta.namespace === 'string' ? meta.namespace : undefined;
    const kept = (meta.ownerReferences as Record<string, unknown>[])
      // A namespaced object may have a cluster-scoped owner.
      .filter((r) => !!exported && (exported(ownerKey(r.apiVersion, r.kind, namespace, r.name)) || exported(ownerKey(r.apiVersion, r.kind, undefined, r.name))));
    if (kept.length) meta.ownerReferences = kept;
    else delete meta.ownerReferences;
  }
  if (meta && Object.keys(meta).length === 0) delete copy.metadata;
  return copy;
}

function removePath(obj: Record<string, unknown>, path: string[], keep?: (v: unknown) => boolean): void {
  let node: unknown = obj;
  for (const key of path.slice(0, -1)) {
    if (node === null || typeof node !== 'object' || Array.isArray(node) || !Object.hasOwn(node, key)) return;
    node = (node as Record<string, unknown>)[key];
  }
  const last = path.at(-1)!;
  if (node === null || typeof node !== 'object' || Array.isArray(node) || !Object.hasOwn(node, last)) return;
  if (keep?.((node as Record<string, unknown>)[last])) return;
  delete (node as Record<string, unknown>)[last];
}
