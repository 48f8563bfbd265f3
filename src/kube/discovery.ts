// Finds every listable resource type: aggregated discovery (one request each for /api and /apis) with a fallback
// to legacy per-group discovery. Per group, the preferred version only. A group that cannot be discovered
// (an aggregated API whose service is down) is reported as failed, never silently dropped.
import type { KubeClient } from './client.ts';
import { listAllPages } from './list.ts';
import { failedGroupIgnored, selectTypes } from './filter.ts';
import type { DiscoverySettings } from '../config/types.ts';
import { formatTypeName } from '../model/type-name.ts';
import type { ResourceType } from '../model/resource-type.ts';

export interface FailedGroup { group: string; version?: string; reason: string }

export interface Discovery { types: ResourceType[]; failedGroups: FailedGroup[] }

const AGGREGATED = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;q=0.9';

interface AggResource {
  resource: string;
  responseKind?: { group: string; version: string; kind: string };
  scope: 'Cluster' | 'Namespaced';
  verbs?: string[];
}
interface AggVersion { version: string; resources?: AggResource[]; freshness?: 'Current' | 'Stale' }
interface AggGroup { metadata?: { name?: string }; versions: AggVersion[] }

export function groupVersionPath(group: string, version: string): string {
  return group === '' ? `/api/${version}` : `/apis/${group}/${version}`;
}

const DNS_LABEL = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const VALID_PART: Record<'group' | 'version' | 'kind' | 'resource', RegExp> = {
  group: new RegExp(`^(${DNS_LABEL}(\\.${DNS_LABEL})*)?$`), // DNS subdomain; '' is the core group
  version: new RegExp(`^${DNS_LABEL}$`),
  kind: /^[A-Za-z][-A-Za-z0-9_]*$/,
  resource: /^[A-Za-z0-9]([-A-Za-z0-9._]*[A-Za-z0-9])?$/,
};
const MAX_TYPE_NAME = 255; // one directory name

/** Pure: why discovered strings cannot name a type's directory and list URL, or undefined when they can. */
export function invalidTypeReason(t: { group: string; version: string; kind: string; resource: string }): string | undefined {
  for (const part of ['group', 'version', 'kind', 'resource'] as const) {
    if (typeof t[part] !== 'string' || !VALID_PART[part].test(t[part])) {
      return `discovery reported an unusable ${part} ${JSON.stringify(t[part])}: the type is not read`;
    }
  }
  if (Buffer.byteLength(formatTypeName(t)) > MAX_TYPE_NAME) return `type name longer than ${MAX_TYPE_NAME} bytes: the type is not read`;
  return undefined;
}

/** A one-line, path-free stand-in for a part that is unusable. */
const display = (s: string, part: keyof typeof VALID_PART) =>
  VALID_PART[part].test(s) ? s : encodeURIComponent(String(s)).replaceAll('.', '%2E');

function makeType(group: string, version: string, kind: string, resource: string, namespaced: boolean): ResourceType {
  const invalid = invalidTypeReason({ group, version, kind, resource });
  return {
    name: invalid ? `${display(group, 'group') || 'core'}.${display(version, 'version')}.${display(kind, 'kind')}` : formatTypeName({ group, version, kind }),
    group, version, kind, resource, namespaced,
    listPath: invalid ? '' : `${groupVersionPath(group, version)}/${resource}`,
    ...(invalid ? { invalid } : {}),
  };
}

/** Pure: aggregated discovery documents → preferred-version listable types and failed groups. */
export function typesFromAggregated(groups: AggGroup[]): Discovery {
  const types: ResourceType[] = [];
  const failedGroups: FailedGroup[] = [];
  for (const g of groups) {
    const group = g.metadata?.name ?? '';
    const preferred = g.versions[0]; // versions are listed in preference order
    if (!preferred) continue;
    if (preferred.freshness === 'Stale') {
      failedGroups.push({ group, version: preferred.version, reason: 'discovery is stale: the API service is unavailable' });
      continue;
    }
    for (const r of preferred.resources ?? []) {
      if (!r.verbs?.includes('list') || r.resource.includes('/')) continue;
      types.push(makeType(group, preferred.version, r.responseKind?.kind ?? r.resource, r.resource, r.scope === 'Namespaced'));
    }
  }
  return { types, failedGroups };
}

interface LegacyResourceList { resources: { name: string; kind: string; namespaced: boolean; verbs: string[] }[] }
interface LegacyGroupList { groups: { name: string; preferredVersion?: { version: string }; versions: { version: string }[] }[] }

async function legacyDiscovery(client: KubeClient): Promise<Discovery> {
  const result: Discovery = { types: [], failedGroups: [] };
  const groupVersions: [string, string][] = [['', 'v1']];
  const list = await client.getJSON<LegacyGroupList>('/apis');
  for (const g of list.groups) groupVersions.push([g.name, g.preferredVersion?.version ?? g.versions[0].version]);
  await Promise.all(groupVersions.map(async ([group, version]) => {
    try {
      const rl = await client.getJSON<LegacyResourceList>(groupVersionPath(group, version), { retries: 1 });
      for (const r of rl.resources) {
        if (r.name.includes('/') || !r.verbs.includes('list')) continue;
        result.types.push(makeType(group, version, r.kind, r.name, r.namespaced));
      }
    } catch (e) {
      result.failedGroups.push({ group, version, reason: (e as Error).message });
    }
  }));
  return result;
}

interface ApiServiceList {
  items: { spec: { group?: string; version?: string; service?: unknown }; status?: { conditions?: { type: string; status: string; message?: string }[] } }[];
}

/** APIServices whose backing service is not Available: their groups must count as failed even if discovery omits them. */
async function unavailableApiServices(client: KubeClient): Promise<FailedGroup[]> {
  try {
    const list = await client.getJSON<ApiServiceList>('/apis/apiregistration.k8s.io/v1/apiservices', { retries: 1 });
    return list.items
      .filter((s) => s.spec.service && s.status?.conditions?.find((c) => c.type === 'Available')?.status === 'False')
      .map((s) => ({
        group: s.spec.group ?? '',
        version: s.spec.version,
        reason: s.status?.conditions?.find((c) => c.type === 'Available')?.message ?? 'API service unavailable',
      }));
  } catch {
    return []; // not allowed to read APIServices: discovery alone decides
  }
}

export async function discoverTypes(client: KubeClient): Promise<Discovery> {
  let discovery: Discovery;
  // The three requests go out together: each is a round trip a sync waits for before it can list anything.
  const aggregatedApis = client.getJSON<{ items: AggGroup[] }>('/apis', { accept: AGGREGATED });
  aggregatedApis.catch(() => {}); // unused against a server without aggregated discovery
  const unavailable = unavailableApiServices(client);
  const core = await client.request('/api', { accept: AGGREGATED });
  if (core.status === 200 && String(core.headers['content-type']).includes('as=APIGroupDiscoveryList')) {
    const coreGroups = (JSON.parse(core.body.toString('utf8')) as { items: AggGroup[] }).items;
    discovery = typesFromAggregated([...coreGroups, ...(await aggregatedApis).items]);
  } else {
    if (core.status === 401) await client.getJSON('/api'); // throws the one-line 401 error
    discovery = await legacyDiscovery(client);
  }
  const known = new Set(discovery.failedGroups.map((f) => f.group));
  for (const f of await unavailable) {
    if (known.has(f.group)) continue;
    known.add(f.group);
    discovery.failedGroups.push(f);
    discovery.types = discovery.types.filter((t) => t.group !== f.group || (f.version !== undefined && t.version !== f.version));
  }
  discovery.types.sort((a, b) => a.name.localeCompare(b.name));
  return discovery;
}

const crdCache = new Map<string, { at: number; types: Set<string> }>();

/** Pure: `group/plural` from a CRD's name, which the API server requires to be `<plural>.<group>`. */
export const crdTypeKey = (crdName: string) => `${crdName.slice(crdName.indexOf('.') + 1)}/${crdName.slice(0, crdName.indexOf('.'))}`;

/**
 * `group/plural` of every CRD-defined type, cached per cluster for `ttlSeconds` (CRDs change rarely). Read as
 * paginated metadata (PartialObjectMetadataList): a CRD's name is `<plural>.<group>`, and the specs (hundreds
 * of large schemas on a Crossplane-sized cluster) are never transferred.
 */
export async function crdDefinedTypes(client: KubeClient, ttlSeconds: number, now = Date.now()): Promise<Set<string>> {
  const cached = crdCache.get(client.clusterId);
  if (cached && now - cached.at < ttlSeconds * 1000) return cached.types;
  const types = new Set<string>();
  const crds: ResourceType = {
    name: 'apiextensions.k8s.io.v1.CustomResourceDefinition', group: 'apiextensions.k8s.io', version: 'v1',
    kind: 'CustomResourceDefinition', resource: 'customresourcedefinitions', namespaced: false,
    listPath: '/apis/apiextensions.k8s.io/v1/customresourcedefinitions',
  };
  for await (const page of listAllPages(client, crds, { pageSize: 500, metadataOnly: true })) {
    if (page.restarted) types.clear();
    for (const crd of page.items) if (typeof crd.metadata?.name === 'string') types.add(crdTypeKey(crd.metadata.name));
  }
  crdCache.set(client.clusterId, { at: now, types });
  return types;
}

/** Discovery, the CRD lookup and selection: the types a sync reads (and drift compares). */
export async function discoverSelectedTypes(client: KubeClient, settings: DiscoverySettings) {
  const discovery = await discoverTypes(client);
  const crds = settings.includeCRDs ? new Set<string>() : await crdDefinedTypes(client, settings.crdCacheTTL);
  const failedGroups = discovery.failedGroups.filter((g) => !failedGroupIgnored(g.group, g.version, settings));
  return { ...selectTypes(discovery.types, settings, crds), failedGroups };
}
