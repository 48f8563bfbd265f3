// Pure: how the pages write times, commit ids, recorded values and links. Everything here returns plain strings;
// the templates escape them (hono/html), so a hostile name or value is only ever text.
import { stringify } from 'yaml';
import { CLUSTER_SCOPED_DIR } from '../model/object-path.ts';

/** `2026-12-01 19:40:38 UTC`: one zone for everyone reading the same history. */
export function when(iso: string): string {
  return iso.replace('T', ' ').replace(/\.\d+Z$|Z$/, ' UTC');
}

export const shortCommit = (commit: string) => commit.slice(0, 8);

/** A recorded value as YAML text (a string as itself): objects and lists keep their shape in a side-by-side cell. */
export function valueText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === undefined) return '';
  return stringify(value, { lineWidth: 0 }).replace(/\n$/, '');
}

export interface UiObjectRef { clusterId: string; type: string; namespace?: string; name: string }

const seg = encodeURIComponent;

export function objectUrl(o: UiObjectRef, query?: Record<string, string | undefined>): string {
  return `/ui/clusters/${seg(o.clusterId)}/objects/${seg(o.type)}/${seg(o.namespace ?? CLUSTER_SCOPED_DIR)}/${seg(o.name)}${queryString(query)}`;
}

export const clusterUrl = (clusterId: string, query?: Record<string, string | undefined>) => `/ui/clusters/${seg(clusterId)}${queryString(query)}`;
export const timelineUrl = (query?: Record<string, string | undefined>) => `/ui/timeline${queryString(query)}`;

/** `?a=1&b=2` without the empty ones, or '' when none is left. */
export function queryString(query: Record<string, string | undefined> = {}): string {
  const q = new URLSearchParams(Object.entries(query).filter((e): e is [string, string] => Boolean(e[1]))).toString();
  return q ? `?${q}` : '';
}

/** `shop/checkout` or `checkout` for a cluster-scoped object. */
export const objectLabel = (o: { namespace?: string; name: string }) => (o.namespace ? `${o.namespace}/${o.name}` : o.name);
