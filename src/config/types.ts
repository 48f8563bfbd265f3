// The validated configuration. Every field has its default filled in by `validateConfig`.
import type { PullRequestConfig } from './pull-request.ts';

export interface DiscoverySettings {
  select: string[]; // type-name globs to include (`apps.*`, `core.v1.ConfigMap`)
  ignore: string[]; // type-name globs to leave out
  namespaces: string[]; // only these namespaces (empty = all)
  excludeNamespaces: string[];
  includeSecrets: boolean;
  includeCRDs: boolean;
  crdCacheTTL: number; // seconds
  defaultIgnores: DefaultIgnores;
  keepStatus: string[]; // type-name globs whose `status` is kept
  concurrency: number; // types listed at once
  pageSize: number;
  requestTimeoutSeconds: number;
  maxDeletePercent: number;
  // Noise and redaction rules (snapshot/noise.ts): what of an object is left out or HMAC'd before it is written.
  ignoreObjects: ObjectRule[]; // objects not recorded at all
  ignoreFields: FieldRule[]; // field paths removed
  redactFields: FieldRule[]; // field paths whose values are HMAC'd like Secret values
  defaultIgnoreObjects: DefaultIgnoreObjects;
  defaultIgnoreFields: DefaultIgnoreFields;
  defaultRedactFields: DefaultRedactFields;
  keepLastApplied: boolean; // keep kubectl's last-applied-configuration annotation on objects other than Secrets
}

/** Which objects a rule is about: a type pattern, and optionally namespace and name globs and a label selector. */
export interface ObjectRule {
  type: string;
  namespace?: string;
  name?: string;
  labelSelector?: string;
}

export interface FieldRule extends ObjectRule {
  paths: string[]; // field paths (snapshot/field-path.ts)
}

// Each switches one named set of built-in rules (snapshot/noise-defaults.ts); all on by default.
export interface DefaultIgnoreObjects {
  clusterAutoscalerStatus: boolean;
}

export interface DefaultIgnoreFields {
  leaderElection: boolean;
  templateCreationTimestamp: boolean;
  autoscalerStatus: boolean;
  nodeTTL: boolean;
  reconcileRequests: boolean;
}

export interface DefaultRedactFields {
  envSecrets: boolean;
  helmValues: boolean;
  helmReleaseConfigMaps: boolean;
}

export interface DefaultIgnores {
  events: boolean;
  leases: boolean;
  endpoints: boolean; // Endpoints, EndpointSlices and IPAddresses (derived from Services)
  metrics: boolean; // metrics.k8s.io
  componentStatuses: boolean; // core.v1.ComponentStatus: deprecated health probes, not configuration
  ownedObjects: boolean; // objects with a controller ownerReference
}

export interface InClusterAuth {
  tokenFile: string;
  caFile: string;
  host?: string; // defaults to $KUBERNETES_SERVICE_HOST
  port?: string; // defaults to $KUBERNETES_SERVICE_PORT
}

export interface ConnectionAuth {
  server: string;
  token?: string;
  tokenEnv?: string;
  caData?: string;
  certData?: string;
  keyData?: string;
  skipTLSVerify: boolean;
}

export interface ClusterConfig {
  id: string;
  name: string;
  tags: Record<string, string>;
  metadata: Record<string, unknown>;
  inCluster?: InClusterAuth;
  connection?: ConnectionAuth;
  kubeconfigContent?: string;
  kubeconfig?: string;
  context?: string;
  schedule?: string;
  discovery: DiscoverySettings;
}

export interface SecretsConfig {
  /** hmac: values become keyed digests (default); sops: values encrypted for `ageRecipients`, restorable. */
  mode: 'hmac' | 'sops';
  ageRecipients: string[]; // age X25519 public keys (age1…), sops mode only
  hmacKeyEnv: string;
  hmacKey?: string; // resolved from hmacKeyEnv at load time, never written back
  unsafeStorePlaintextSecrets: boolean;
}

export interface RemoteConfig {
  url: string;
  branch: string;
  tokenEnv: string;
  username: string;
  allowInsecureHttp: boolean; // an http:// url sends the token in clear; refused unless this is set
  /** Push attempts before a run gives up (each lost race: wait, fetch the new head, re-apply, push again). */
  pushAttempts: number;
  /** Review each cluster's changes as a pull request against `pullRequest.base` instead of pushing to `branch`. */
  pullRequest?: PullRequestConfig;
}

export interface WebhookConfig {
  url: string;
  events: string[];
  secretEnv?: string;
}

export interface ApiConfig {
  port: number;
  host: string;
  tokenEnv: string; // bearer token for sync triggers
  readTokenEnv?: string; // bearer token for reads; without it, reads need the trigger token
  anonymousReads: boolean; // reads need no token at all
  auditTokenEnv: string; // bearer token of the apiserver's audit webhook (POST /api/v1/audit); unset = not accepted
  auditRetentionSeconds: number; // audit events are kept this long (and at most auditMaxEvents) to match changes
  auditMaxEvents: number;
  tlsCertFile?: string; // PEM: serve HTTPS (needed by the audit webhook, whose kubeconfig sends a token only over TLS)
  tlsKeyFile?: string;
}

export interface Config {
  repo: string;
  branch: string;
  bare: boolean;
  author: { name: string; email: string };
  secrets: SecretsConfig;
  /** What `kubetrail run` does: syncs on `schedule`, or a watch committing changes as they happen. */
  mode: 'sync' | 'watch';
  watch: { commitIntervalSeconds: number; discoveryIntervalSeconds: number };
  schedule?: string;
  /** A pushing run (scheduled, or `sync --push`) first waits a random 0…this many seconds: a fleet on one tick spreads out. */
  startJitterSeconds: number;
  timezone?: string;
  concurrency: number; // clusters synced at once
  remote?: RemoteConfig;
  webhooks: WebhookConfig[];
  api: ApiConfig;
  clusters: ClusterConfig[];
}
