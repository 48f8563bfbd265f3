// Pure: the order in which `kubectl apply` can create a cluster's objects, each after what it depends on:
// CRDs, Namespaces, cluster-scoped RBAC and classes, then per namespace the accounts, configuration and
// Secrets, workloads and services, the admission webhooks and APIServices (whose backends must run first),
// and custom resources last (their CRDs must be established).
import { parseTypeName } from '../model/type-name.ts';

export interface Stage { rank: number; name: string }

export const STAGES = {
  crds: { rank: 1, name: 'crds' },
  namespaces: { rank: 2, name: 'namespaces' },
  cluster: { rank: 3, name: 'cluster' },
  config: { rank: 4, name: 'config' },
  workloads: { rank: 5, name: 'workloads' },
  webhooks: { rank: 6, name: 'webhooks' },
  customResources: { rank: 7, name: 'custom-resources' },
} as const satisfies Record<string, Stage>;

// Groups served by Kubernetes itself: a type of any other group is a custom resource (or an aggregated API's).
const BUILT_IN_GROUPS = new Set(['', 'core', 'apps', 'batch', 'autoscaling', 'policy', 'extensions']);
const isBuiltInGroup = (group: string) => BUILT_IN_GROUPS.has(group) || group === 'k8s.io' || group.endsWith('.k8s.io');

// Within a stage, kinds in this order (others after them, by name), as Helm installs them.
const KIND_ORDER = [
  'CustomResourceDefinition', 'Namespace', 'PriorityClass', 'StorageClass', 'IngressClass', 'RuntimeClass',
  'ClusterRole', 'ClusterRoleBinding', 'PersistentVolume',
  'NetworkPolicy', 'ResourceQuota', 'LimitRange', 'ServiceAccount', 'Secret', 'ConfigMap', 'Role', 'RoleBinding',
  'PersistentVolumeClaim', 'Service', 'DaemonSet', 'Pod', 'ReplicationController', 'ReplicaSet', 'Deployment',
  'StatefulSet', 'Job', 'CronJob', 'HorizontalPodAutoscaler', 'PodDisruptionBudget', 'Ingress',
  'APIService', 'MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration',
];

const CONFIG_KINDS = new Set(['NetworkPolicy', 'ResourceQuota', 'LimitRange', 'ServiceAccount', 'Secret', 'ConfigMap', 'Role', 'RoleBinding', 'PersistentVolumeClaim']);
const WEBHOOK_KINDS = new Set(['APIService', 'MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration', 'ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyBinding', 'MutatingAdmissionPolicy', 'MutatingAdmissionPolicyBinding']);

/**
 * The stage of a type. `customGroups` are the groups that the recorded CRDs define: a type of such a group is a
 * custom resource even when the group ends in `.k8s.io` (sample-controller's `samplecontroller.k8s.io`).
 */
export function stageOf(typeName: string, namespaced: boolean, customGroups: ReadonlySet<string> = new Set()): Stage {
  const t = parseTypeName(typeName);
  const group = t?.group === 'core' ? '' : t?.group ?? '';
  const kind = t?.kind ?? typeName;
  if (kind === 'CustomResourceDefinition' && group === 'apiextensions.k8s.io') return STAGES.crds;
  if (customGroups.has(group) || !isBuiltInGroup(group)) return STAGES.customResources;
  if (kind === 'Namespace' && group === '') return STAGES.namespaces;
  if (WEBHOOK_KINDS.has(kind)) return STAGES.webhooks;
  if (!namespaced) return STAGES.cluster;
  return CONFIG_KINDS.has(kind) ? STAGES.config : STAGES.workloads;
}

export interface Orderable { type: string; namespace?: string; name: string }

const kindRank = (typeName: string) => {
  const i = KIND_ORDER.indexOf(parseTypeName(typeName)?.kind ?? '');
  return i < 0 ? KIND_ORDER.length : i;
};

/** Sorted for apply: by stage, kind, type, namespace and name (a stable order, so exports of one commit are equal). */
export function applyOrder<T extends Orderable>(items: T[], customGroups: ReadonlySet<string> = new Set()): T[] {
  const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  const key = (x: T) => stageOf(x.type, x.namespace !== undefined, customGroups).rank;
  return [...items].sort((a, b) => key(a) - key(b) || kindRank(a.type) - kindRank(b.type) || cmp(a.type, b.type)
    || cmp(a.namespace ?? '', b.namespace ?? '') || cmp(a.name, b.name));
}
