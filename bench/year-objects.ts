// Pure: the objects and commits of issue 21's simulated year (10 clusters × 10k objects, commits over a year with
// a hot-object skew, deletions and re-creations), as kubetrail would have recorded them. Deterministic for a seed,
// so the generator (bench/year-history.ts), its manifest and its unit test agree without storing the plan.
import type { Attribution } from '../src/attribution/managed-fields.ts';
import { objectPath } from '../src/model/object-path.ts';

export const CLUSTERS = ['prod-us', 'prod-eu', 'prod-ap', 'staging-us', 'staging-eu', 'dev', 'qa', 'edge-1', 'edge-2', 'ops'];
export const YEAR_SECONDS = 365 * 86400;
/** The last commit's time (fixed, so the history does not depend on the day it was made). */
export const LAST_COMMIT = Date.UTC(2026, 10, 30, 12) / 1000;
/** Per cluster, objects 0..HOT-1 change in ~30% of that cluster's changes. */
export const HOT = 20;

const NAMESPACES = ['shop', 'payments', 'kube-system', 'monitoring', 'ingress-nginx', 'cert-manager', 'logging', 'auth',
  'search', 'catalog', 'orders', 'billing', ...Array.from({ length: 28 }, (_, i) => `team-${String(i + 1).padStart(2, '0')}`)];
const WORDS = ['cart', 'api', 'worker', 'gateway', 'cache', 'index', 'ledger', 'mailer', 'report', 'sync', 'queue', 'auth',
  'render', 'proxy', 'feed', 'audit', 'stock', 'price', 'user', 'media'];
// Kinds with their share of a cluster's objects (weights add up to 100); cluster-scoped kinds live under `_cluster`.
const KINDS: { type: string; weight: number; clusterScoped?: boolean }[] = [
  { type: 'core.v1.ConfigMap', weight: 30 }, { type: 'apps.v1.Deployment', weight: 15 }, { type: 'core.v1.Service', weight: 15 },
  { type: 'core.v1.ServiceAccount', weight: 9 }, { type: 'core.v1.Secret', weight: 10 }, { type: 'batch.v1.CronJob', weight: 5 },
  { type: 'networking.k8s.io.v1.Ingress', weight: 5 }, { type: 'apps.v1.StatefulSet', weight: 3 },
  { type: 'rbac.authorization.k8s.io.v1.RoleBinding', weight: 4 },
  { type: 'rbac.authorization.k8s.io.v1.ClusterRole', weight: 4, clusterScoped: true },
];

/** xorshift32: the same sequence on every runtime for a seed. */
export function random(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13; s ^= s >>> 17; s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

/** A 32-bit mix of integers: per-object choices that do not depend on the order objects are made in. */
function hash(...xs: number[]): number {
  let h = 0x811c9dc5;
  for (const x of xs) { h = Math.imul(h ^ x, 0x01000193); h ^= h >>> 15; h = Math.imul(h, 0x2c1b3c6d); h ^= h >>> 12; }
  return h >>> 0;
}

export interface YearObject { cluster: string; index: number; type: string; namespace: string | undefined; name: string }

/** Object `index` of cluster number `c`; object 0 of every cluster is the hot Deployment shop/checkout. */
export function yearObject(c: number, index: number): YearObject {
  const cluster = CLUSTERS[c];
  if (index === 0) return { cluster, index, type: 'apps.v1.Deployment', namespace: 'shop', name: 'checkout' };
  let pick = hash(c, index, 1) % 100;
  const kind = KINDS.find((k) => (pick -= k.weight) < 0)!;
  // Namespaces skewed: the first ones hold most objects, as real clusters' application namespaces do.
  const namespace = kind.clusterScoped ? undefined : NAMESPACES[Math.floor((hash(c, index, 2) / 2 ** 32) ** 2 * NAMESPACES.length)];
  const name = `${WORDS[hash(c, index, 3) % WORDS.length]}-${WORDS[hash(c, index, 4) % WORDS.length]}-${index}`;
  return { cluster, index, type: kind.type, namespace, name };
}

export const pathOf = (o: YearObject) => objectPath(o.cluster, o.type, o.namespace, o.name);
/** The path inside the cluster's subtree, as a sync's FileChanges list it. */
export const relPathOf = (o: YearObject) => pathOf(o).slice(`clusters/${o.cluster}/`.length);

const iso = (seconds: number) => new Date(seconds * 1000).toISOString().replace('.000Z', 'Z');
const hex = (n: number, len: number) => { let s = ''; for (let i = 0; s.length < len; i++) s += hash(n, i).toString(16).padStart(8, '0'); return s.slice(0, len); };

/**
 * The YAML kubetrail writes for the object at `revision` (a counter of its changes), created at `created` (seconds)
 * in its `generation`-th life (a re-created object has a new uid). 0.5-2 KB, keys in Kubernetes order.
 */
export function objectYaml(c: number, o: YearObject, revision: number, created: number, generation: number): string {
  const h = hash(c, o.index, generation);
  const app = o.name.replace(/-\d+$/, '');
  const labels = `    app.kubernetes.io/name: ${app}\n    app.kubernetes.io/part-of: ${o.namespace ?? 'platform'}\n    team: ${WORDS[h % WORDS.length]}\n`;
  const meta = (kind: string, apiVersion: string, extra = '') =>
    `apiVersion: ${apiVersion}\nkind: ${kind}\nmetadata:\n${extra}  creationTimestamp: "${iso(created)}"\n  labels:\n${labels}  name: ${o.name}\n` +
    (o.namespace ? `  namespace: ${o.namespace}\n` : '') + `  uid: ${hex(h, 8)}-${hex(h + 1, 4)}-4${hex(h + 2, 3)}-a${hex(h + 3, 3)}-${hex(h + 4, 12)}\n`;
  const lines = (n: number, f: (i: number) => string) => Array.from({ length: n }, (_, i) => f(i)).join('');
  switch (o.type) {
    case 'apps.v1.Deployment':
    case 'apps.v1.StatefulSet': {
      const kind = o.type.split('.').pop()!;
      return meta(kind, 'apps/v1', `  annotations:\n    deployment.kubernetes.io/revision: "${revision + 1}"\n`) +
        `spec:\n  progressDeadlineSeconds: 600\n  replicas: ${2 + ((h + revision) % 5)}\n  revisionHistoryLimit: 10\n  selector:\n    matchLabels:\n      app.kubernetes.io/name: ${app}\n` +
        `  template:\n    metadata:\n      labels:\n        app.kubernetes.io/name: ${app}\n    spec:\n      containers:\n      - env:\n` +
        lines(2 + (h % 6), (i) => `        - name: ${WORDS[(h + i) % WORDS.length].toUpperCase()}_URL_${i}\n          value: http://${WORDS[(h >> 3) % WORDS.length]}.${o.namespace}.svc:80${i}\n`) +
        `        - name: RELEASE\n          value: "${iso(created + revision * 3600)}"\n` +
        `        image: registry.example.com/${o.namespace}/${app}:1.${Math.floor(revision / 10)}.${revision % 10}\n        imagePullPolicy: IfNotPresent\n        name: ${app}\n` +
        `        ports:\n        - containerPort: 8080\n          name: http\n          protocol: TCP\n` +
        `        resources:\n          limits:\n            memory: ${256 << (revision % 3)}Mi\n          requests:\n            cpu: ${100 + (revision % 4) * 50}m\n            memory: ${128 << (revision % 3)}Mi\n` +
        `      restartPolicy: Always\n      serviceAccountName: ${app}\n      terminationGracePeriodSeconds: 30\n`;
    }
    case 'core.v1.ConfigMap':
      return meta('ConfigMap', 'v1') + `data:\n` +
        lines(3 + (h % 20), (i) => `  ${String(i).padStart(2, '0')}-${WORDS[(h + i) % WORDS.length]}.conf: ${i === 0 ? `revision=${revision}` : `"${hex(h + i, 16 + ((h >> i) % 40))}"`}\n`);
    case 'core.v1.Secret':
      return meta('Secret', 'v1') +
        `data:\n` + lines(1 + (h % 5), (i) => `  key-${i}: hmac-sha256:${hex(h + i * 7 + (i === 0 ? revision * 131 : 0), 64)}\n`) + `type: Opaque\n`;
    case 'core.v1.Service':
      return meta('Service', 'v1', revision ? `  annotations:\n    example.com/revision: "${revision}"\n` : '') +
        `spec:\n  clusterIP: 10.${h % 250}.${(h >> 8) % 250}.${(h >> 16) % 250}\n  internalTrafficPolicy: Cluster\n  ipFamilies:\n  - IPv4\n  ipFamilyPolicy: SingleStack\n` +
        `  ports:\n` + lines(1 + (h % 3), (i) => `  - name: port-${i}\n    port: ${80 + i}\n    protocol: TCP\n    targetPort: ${8080 + i + (revision % 2)}\n`) +
        `  selector:\n    app.kubernetes.io/name: ${app}\n  sessionAffinity: None\n  type: ClusterIP\n`;
    case 'core.v1.ServiceAccount':
      return meta('ServiceAccount', 'v1', `  annotations:\n    example.com/revision: "${revision}"\n    iam.example.com/role: arn:example:iam::${h % 1000000}:role/${app}\n`) +
        `automountServiceAccountToken: false\nimagePullSecrets:\n- name: registry-credentials\n`;
    case 'batch.v1.CronJob':
      return meta('CronJob', 'batch/v1') +
        `spec:\n  concurrencyPolicy: Forbid\n  failedJobsHistoryLimit: 1\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          containers:\n` +
        `          - args:\n            - --revision=${revision}\n            image: registry.example.com/jobs/${app}:${revision}\n            name: ${app}\n          restartPolicy: OnFailure\n` +
        `  schedule: ${h % 60} ${(h >> 6) % 24} * * *\n  successfulJobsHistoryLimit: 3\n  suspend: false\n`;
    case 'networking.k8s.io.v1.Ingress':
      return meta('Ingress', 'networking.k8s.io/v1', `  annotations:\n    cert-manager.io/cluster-issuer: letsencrypt\n    example.com/revision: "${revision}"\n`) +
        `spec:\n  ingressClassName: nginx\n  rules:\n  - host: ${app}.${o.namespace}.example.com\n    http:\n      paths:\n      - backend:\n          service:\n            name: ${app}\n            port:\n              number: 80\n        path: /\n        pathType: Prefix\n` +
        `  tls:\n  - hosts:\n    - ${app}.${o.namespace}.example.com\n    secretName: ${app}-tls\n`;
    case 'rbac.authorization.k8s.io.v1.RoleBinding':
      return meta('RoleBinding', 'rbac.authorization.k8s.io/v1') +
        `roleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: ClusterRole\n  name: ${revision % 2 ? 'edit' : 'view'}\nsubjects:\n` +
        lines(1 + (h % 4), (i) => `- kind: ServiceAccount\n  name: ${WORDS[(h + i) % WORDS.length]}\n  namespace: ${o.namespace}\n`);
    default:
      return meta('ClusterRole', 'rbac.authorization.k8s.io/v1') + `rules:\n` +
        lines(1 + (h % 4) + (revision % 2), (i) => `- apiGroups:\n  - ${i ? 'apps' : '""'}\n  resources:\n  - ${WORDS[(h + i) % WORDS.length]}s\n  verbs:\n  - get\n  - list\n  - watch\n`);
  }
}

export interface PlannedChange { op: 'add' | 'change' | 'delete'; index: number; revision: number; created: number; generation: number }
export interface PlannedCommit { n: number; cluster: number; time: number; changes: PlannedChange[] }

/** When commit `n` of `commits` is made: the first a year before the last, strictly increasing, a little jitter. */
export function commitTime(n: number, commits: number): number {
  if (commits === 1) return LAST_COMMIT;
  const spacing = YEAR_SECONDS / (commits - 1);
  const jitter = n === 0 || n === commits - 1 ? 0 : Math.floor((hash(n, 7) / 2 ** 32) * spacing * 0.4);
  return LAST_COMMIT - YEAR_SECONDS + Math.floor(n * spacing) + jitter;
}

export interface YearPlan {
  /** Per cluster, per object: how many commits added, changed or deleted it; whether it exists at the end. */
  versions: Int32Array[];
  alive: Uint8Array[];
}

/**
 * Commit by commit: each cluster's first commit adds its `objects`, then each commit changes 1-20 objects of one
 * cluster (mostly one to three), 30% of them among the HOT objects, the rest skewed towards low indexes (most objects
 * change a few times a year or never); an existing object is deleted with 3% odds, a deleted one picked again is
 * re-created (new uid). `plan` (filled as it goes) says what exists at the end and each object's number of versions.
 */
export function* planYear(o: { commits: number; objects?: number; seed?: number }, plan?: YearPlan): Generator<PlannedCommit> {
  const objects = o.objects ?? 10_000;
  const rand = random(o.seed ?? 21);
  const n = CLUSTERS.length;
  const revision = Array.from({ length: n }, () => new Int32Array(objects));
  const generation = Array.from({ length: n }, () => new Int32Array(objects));
  const created = Array.from({ length: n }, () => new Float64Array(objects));
  const p = plan ?? { versions: [], alive: [] };
  p.versions = Array.from({ length: n }, () => new Int32Array(objects));
  p.alive = Array.from({ length: n }, () => new Uint8Array(objects));
  for (let i = 0; i < o.commits; i++) {
    const time = commitTime(i, o.commits);
    const changes: PlannedChange[] = [];
    const cluster = i < n ? i : Math.floor(rand() * n);
    const alive = p.alive[cluster];
    const touch = (index: number, op: PlannedChange['op']) => {
      if (op === 'add') { created[cluster][index] = time; if (p.versions[cluster][index]) generation[cluster][index]++; }
      else if (op === 'change') revision[cluster][index]++;
      alive[index] = op === 'delete' ? 0 : 1;
      p.versions[cluster][index]++;
      changes.push({ op, index, revision: revision[cluster][index], created: created[cluster][index], generation: generation[cluster][index] });
    };
    if (i < n) for (let k = 0; k < objects; k++) touch(k, 'add');
    else {
      const count = 1 + Math.floor(rand() ** 3 * 20);
      const seen = new Set<number>();
      for (let k = 0; k < count; k++) {
        const index = rand() < 0.3 ? Math.floor(rand() * HOT) : Math.floor(rand() ** 3 * objects);
        if (seen.has(index)) continue;
        seen.add(index);
        if (!alive[index]) touch(index, 'add');
        else touch(index, index >= HOT && rand() < 0.03 ? 'delete' : 'change');
      }
    }
    yield { n: i, cluster, time, changes };
  }
}

const MANAGERS = [
  { manager: 'kubectl-set', operation: 'Update' }, { manager: 'argocd-controller', operation: 'Apply' },
  { manager: 'helm', operation: 'Update' }, { manager: 'kubectl-client-side-apply', operation: 'Update' },
  { manager: 'kube-controller-manager', operation: 'Update' },
];

/** Who changed each path, as a sync reads it from managedFields: a manager for most, `unknown` for some. */
export function attributionOf(commit: PlannedCommit, relPaths: string[]): Map<string, Attribution> {
  const out = new Map<string, Attribution>();
  relPaths.forEach((p, i) => {
    const h = hash(commit.n, i, 5);
    if (h % 10 < 2) out.set(p, { managers: [], unknown: true });
    else out.set(p, { managers: [{ ...MANAGERS[h % MANAGERS.length], time: iso(commit.time - 1 - (h % 240)) }], unknown: false });
  });
  return out;
}
