// Pure: which discovered types a sync lists, and why the others are left out.
import type { DiscoverySettings } from '../config/types.ts';
import type { ResourceType } from '../model/resource-type.ts';
import { compileTypePattern, matchesAny, type TypePattern } from '../model/type-name.ts';

export interface TypeSelection {
  selected: ResourceType[];
  excluded: { type: ResourceType; reason: string }[];
}

/** Churn that is not configuration, each switchable in `defaultIgnores`. */
const DEFAULT_IGNORES: { key: keyof DiscoverySettings['defaultIgnores']; patterns: string[] }[] = [
  { key: 'events', patterns: ['core.v1.Event', 'events.k8s.io.*.Event'] },
  { key: 'leases', patterns: ['coordination.k8s.io.*.Lease'] },
  // Service-derived networking state: endpoints and the apiserver's ClusterIP allocation records.
  { key: 'endpoints', patterns: ['core.v1.Endpoints', 'discovery.k8s.io.*.EndpointSlice', 'networking.k8s.io.*.IPAddress'] },
  { key: 'metrics', patterns: ['metrics.k8s.io.*'] },
  { key: 'componentStatuses', patterns: ['core.v1.ComponentStatus'] },
];

// Types that only describe a request (TokenReview, SubjectAccessReview…) cannot be listed and never reach here.
export function selectTypes(types: ResourceType[], settings: DiscoverySettings, crdTypes: Set<string>): TypeSelection {
  const select = settings.select.map(compileTypePattern);
  const ignore = settings.ignore.map(compileTypePattern);
  const defaults = DEFAULT_IGNORES.filter((d) => settings.defaultIgnores[d.key])
    .map((d) => ({ key: d.key, patterns: d.patterns.map(compileTypePattern) }));
  const result: TypeSelection = { selected: [], excluded: [] };
  for (const type of types) {
    const reason = exclusionReason(type, settings, select, ignore, defaults, crdTypes);
    if (reason) result.excluded.push({ type, reason });
    else result.selected.push(type);
  }
  return result;
}

// No Kind (or version) a pattern names is this string, so only a pattern for every Kind (version) matches it.
const ANY = '\0';

/**
 * Whether an `ignore` pattern takes every type of a group whose discovery failed: then nothing of it would be read,
 * and its failure is not the sync's (a broken aggregated API the operator chose to leave out is not a failed type).
 */
export function failedGroupIgnored(group: string, version: string | undefined, settings: DiscoverySettings): boolean {
  return matchesAny(settings.ignore.map(compileTypePattern), { group, version: version ?? ANY, kind: ANY }) !== undefined;
}

function exclusionReason(
  type: ResourceType,
  settings: DiscoverySettings,
  select: TypePattern[],
  ignore: TypePattern[],
  defaults: { key: string; patterns: TypePattern[] }[],
  crdTypes: Set<string>,
): string | undefined {
  if (!matchesAny(select, type)) return `not selected (select: ${settings.select.join(', ')})`;
  const ignoredBy = matchesAny(ignore, type);
  if (ignoredBy) return `ignored by "${ignoredBy.source}"`;
  const byDefault = defaults.find((d) => matchesAny(d.patterns, type));
  if (byDefault) return `default ignore: ${byDefault.key}`;
  if (type.group === '' && type.kind === 'Secret' && !settings.includeSecrets) return 'secrets not included (includeSecrets: false)';
  if (!settings.includeCRDs && crdTypes.has(`${type.group}/${type.resource}`)) return 'CRD types not included (includeCRDs: false)';
  return undefined;
}

/** Objects owned by a controller (Pods of ReplicaSets, ReplicaSets of Deployments…) are derived state. */
export function isControlled(obj: { metadata?: { ownerReferences?: { controller?: boolean }[] } }): boolean {
  return obj.metadata?.ownerReferences?.some((r) => r.controller === true) ?? false;
}

export function namespaceAllowed(namespace: string | undefined, settings: DiscoverySettings): boolean {
  if (namespace === undefined || namespace === '') return true; // cluster-scoped objects belong to no namespace
  if (settings.namespaces.length > 0) return settings.namespaces.includes(namespace);
  return !settings.excludeNamespaces.includes(namespace);
}
