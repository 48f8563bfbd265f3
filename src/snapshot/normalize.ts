// Pure: strip what changes without anyone changing configuration, and order keys so equal objects give equal bytes.
import type { KubeObject } from '../model/kube-object.ts';

export interface NormalizePolicy { keepStatus: boolean }

const DROPPED_METADATA = ['managedFields', 'resourceVersion', 'generation', 'selfLink'];

const TOP_ORDER = ['apiVersion', 'kind', 'metadata', 'spec', 'type', 'data', 'stringData', 'binaryData', 'immutable', 'rules', 'roleRef', 'subjects'];
const METADATA_ORDER = ['name', 'generateName', 'namespace', 'uid', 'creationTimestamp', 'deletionTimestamp', 'labels', 'annotations', 'ownerReferences', 'finalizers'];

function orderKeys(value: unknown, order?: string[]): unknown {
  if (Array.isArray(value)) return value.map((v) => orderKeys(v));
  if (value === null || typeof value !== 'object') return value;
  const keys = Object.keys(value).sort((a, b) => rank(a, order) - rank(b, order) || (a < b ? -1 : a > b ? 1 : 0));
  const out: Record<string, unknown> = {};
  for (const k of keys) setOwn(out, k, orderKeys((value as Record<string, unknown>)[k], k === 'metadata' && order === TOP_ORDER ? METADATA_ORDER : undefined));
  return out;
}

// A plain assignment of `__proto__` (a valid ConfigMap key) would set the prototype, or do nothing for a string,
// instead of keeping the key.
function setOwn(obj: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
  else obj[key] = value;
}

// Known keys come first in Kubernetes order; `name` leads any other map because that is how people scan YAML.
function rank(key: string, order: string[] | undefined): number {
  const i = order?.indexOf(key) ?? -1;
  if (i >= 0) return i;
  return key === 'name' ? -1 : 1000;
}

/** Returns a new object: churn dropped (`managedFields`, `resourceVersion`, …, `status` unless kept), keys ordered. */
export function normalize(obj: KubeObject, policy: NormalizePolicy): KubeObject {
  const copy: KubeObject = { ...obj };
  if (copy.metadata) {
    const metadata = { ...copy.metadata };
    for (const k of DROPPED_METADATA) delete metadata[k];
    copy.metadata = metadata;
  }
  if (!policy.keepStatus) delete copy.status;
  return orderKeys(copy, TOP_ORDER) as KubeObject;
}
