// kubetrail command line: parses arguments, calls the library, prints, and is the only place that exits.
// Started by cli.ts, after client-node is set up to load lean.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ConfigError } from './config/errors.ts';
import { loadConfig, type ConfigFlags } from './config/load.ts';
import type { Config } from './config/types.ts';
import { resolveAccess } from './kube/access.ts';
import { createKubeClient } from './kube/client.ts';
import { discoverTypes, crdDefinedTypes } from './kube/discovery.ts';
import { selectTypes } from './kube/filter.ts';
import { createLog } from './log.ts';
import { scheduleGroups, startJitter } from './schedule/scheduler.ts';
import { SyncEvents } from './sync/events.ts';
import { exitCodeFor, runSync } from './sync/run.ts';
import { WebhookDispatcher } from './webhooks/webhooks.ts';
import { printSummary } from './commands/sync-summary.ts';
import { diffCommand } from './commands/diff.ts';
import { exportCommand } from './commands/export.ts';
import { UsageError } from './commands/usage.ts';

const VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

const HELP = `kubetrail ${VERSION} — Kubernetes cluster state as git history

Usage:
  kubetrail sync   [options]   snapshot clusters into the git repository (commit only when something changed)
  kubetrail types  [options]   list the resource types a sync would read, and why others are left out
  kubetrail serve  [options]   HTTP API over the repository (reads and sync triggers need $KUBETRAIL_API_TOKEN)
  kubetrail watch  [options]   initial sync, then commit changes as they happen (one commit per cluster and window)
  kubetrail run    [options]   daemon: scheduled syncs (schedule in the config), push, webhooks, HTTP API
  kubetrail churn  [options]   the objects and field paths that changed most often (to pick noise rules)
  kubetrail export --cluster ID [--at COMMIT|TIME] [-o DIR|-]   recorded state as manifests for kubectl apply
  kubetrail diff   [--cluster ID] [--at COMMIT|TIME]   live state against the recorded (exit 0 same, 1 drift, 2 error)
  kubetrail --version | --help

Options:
  --config FILE          config file (YAML or JSON); also $KUBETRAIL_CONFIG
  --repo DIR             git repository to write (default ./kubetrail-repo); also $KUBETRAIL_REPO
  Without --config, one cluster from a kubeconfig:
  --kubeconfig PATH      kubeconfig file (default $KUBECONFIG or ~/.kube/config)
  --context NAME         context to use (default: the current context)
  --cluster-id ID        id used in paths (default: the context name)
  --include-secrets      also snapshot Secrets (values HMAC'd with $KUBETRAIL_HMAC_KEY)
  sync:
  --cluster ID           only this cluster (repeatable)
  --dry-run              print what would change, write nothing
  --allow-mass-delete    commit even if more than maxDeletePercent of the objects would be deleted
  --json                 print results as JSON
  --lock-wait SECONDS    how long to wait for another run on the same repository (default 60)
  --push                 start from the remote's head and push the run's commits (token: $KUBETRAIL_GIT_TOKEN)
  --remote URL           remote repository (https), instead of remote.url in the config
  --branch NAME          remote branch (default main)
  --webhook-wait SECONDS how long to wait for webhook deliveries before exiting (default 30)
  --start-jitter SECONDS with --push: wait a random 0…SECONDS first (default startJitterSeconds; 0 for a run by hand)
  sync/serve/run:
  --allow-insecure-http  allow an http:// remote (the git token then travels in clear)
  --pull-request         with --push: each cluster's changes go to its pull request kubetrail/<clusterId> (remote.pullRequest)
  --base NAME            the pull requests' base branch (default main)
  serve/run:
  --port N               HTTP port (default 8080, or api.port)
  export/diff:
  --at COMMIT|TIME       the recorded state at a commit or ISO time (default: the branch head)
  --type PATTERN         only types matching the pattern (e.g. apps.*)
  --namespace NS         only this namespace
  -o, --output DIR|-     export: one file per apply stage in DIR, or one stream on stdout (default -)
  --decrypt              export: Secrets sealed with SOPS decrypted, with the age key of $SOPS_AGE_KEY_FILE
  watch (also --cluster, --lock-wait, --push, --remote, --branch, --pull-request, --base, --allow-insecure-http):
  --commit-interval SECONDS     the coalescing window: one commit per cluster per window with changes (default 10)
  --discovery-interval SECONDS  how often new or removed types (CRDs, APIServices) are looked for (default 60)
                                (defaults: watch.commitIntervalSeconds, watch.discoveryIntervalSeconds)
  run:
  --schedule CRON        sync schedule for every cluster (5 or 6 fields, e.g. "*/5 * * * *")
  churn:
  --cluster ID           only this cluster
  --since DURATION|TIME  only commits since then (30m, 24h, 7d, or an ISO time; default: all history)
  --json                 print the report as JSON

Exit codes: 0 complete, 3 partial (some types could not be listed), 4 a mass deletion held for review in a pull
request (base unchanged), 1 error, 2 usage.`;

const OPTIONS = {
  config: { type: 'string' }, repo: { type: 'string' }, kubeconfig: { type: 'string' }, context: { type: 'string' },
  'cluster-id': { type: 'string' }, 'include-secrets': { type: 'boolean' }, cluster: { type: 'string', multiple: true },
  'dry-run': { type: 'boolean' }, 'lock-wait': { type: 'string' }, 'allow-mass-delete': { type: 'boolean' }, json: { type: 'boolean' },
  port: { type: 'string' }, schedule: { type: 'string' }, push: { type: 'boolean' }, remote: { type: 'string' }, branch: { type: 'string' },
  'allow-insecure-http': { type: 'boolean' }, 'webhook-wait': { type: 'string' }, 'pull-request': { type: 'boolean' }, base: { type: 'string' },
  'start-jitter': { type: 'string' }, since: { type: 'string' }, at: { type: 'string' }, type: { type: 'string' }, namespace: { type: 'string' },
  'commit-interval': { type: 'string' }, 'discovery-interval': { type: 'string' },
  output: { type: 'string', short: 'o' }, decrypt: { type: 'boolean' }, help: { type: 'boolean', short: 'h' }, version: { type: 'boolean', short: 'v' },
} as const;

// Each command takes only its own flags: a flag another command would use is a usage error, never silently ignored.
const COMMON = ['config', 'repo', 'kubeconfig', 'context', 'cluster-id', 'include-secrets', 'help', 'version'];
const COMMAND_OPTIONS: Record<string, string[]> = {
  sync: [...COMMON, 'cluster', 'dry-run', 'allow-mass-delete', 'json', 'lock-wait', 'push', 'remote', 'branch', 'allow-insecure-http', 'webhook-wait', 'pull-request', 'base', 'start-jitter'],
  types: [...COMMON, 'cluster', 'json'],
  watch: [...COMMON, 'cluster', 'lock-wait', 'commit-interval', 'discovery-interval', 'push', 'remote', 'branch', 'allow-insecure-http', 'pull-request', 'base'],
  serve: [...COMMON, 'port', 'allow-insecure-http'],
  run: [...COMMON, 'port', 'schedule', 'allow-insecure-http'],
  churn: [...COMMON, 'cluster', 'since', 'json'],
  export: ['config', 'repo', 'cluster', 'at', 'type', 'namespace', 'output', 'json', 'decrypt', 'help', 'version'],
  diff: [...COMMON, 'cluster', 'at', 'type', 'namespace', 'json'],
};

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

const configFlags = (v: Values): ConfigFlags => ({
  config: v.config, repo: v.repo, kubeconfig: v.kubeconfig, context: v.context,
  clusterId: v['cluster-id'], includeSecrets: v['include-secrets'],
  remote: v.remote, branch: v.branch, schedule: v.schedule, allowInsecureHttp: v['allow-insecure-http'],
  pullRequest: v['pull-request'], base: v.base,
});

function seconds(v: Values, flag: 'lock-wait' | 'webhook-wait' | 'start-jitter' | 'commit-interval' | 'discovery-interval', def: number): number {
  const n = Number(v[flag] ?? def);
  if (!Number.isFinite(n) || n < 0) throw new UsageError(`--${flag} must be a number of seconds`);
  return n;
}

function oneCluster(v: Values, required: boolean): string | undefined {
  if ((v.cluster?.length ?? 0) > 1) throw new UsageError('give one --cluster');
  if (required && !v.cluster?.length) throw new UsageError('--cluster ID is required');
  return v.cluster?.[0];
}

const pad = (s: string | number, n: number) => String(s).padEnd(n);

function pushFlags(v: Values, config: Config): void {
  if (v.push && !config.remote) throw new UsageError('--push needs --remote URL or remote.url in the config');
  if (v['pull-request'] && !v.push) throw new UsageError('--pull-request needs --push (and --remote URL or remote.url in the config)');
}

async function sync(v: Values): Promise<number> {
  const config = loadConfig(configFlags(v));
  const tty = process.stderr.isTTY && !v.json;
  const lockWait = seconds(v, 'lock-wait', 60);
  const webhookWait = seconds(v, 'webhook-wait', 30);
  const unknown = v.cluster?.filter((id) => !config.clusters.some((c) => c.id === id));
  if (unknown?.length) throw new UsageError(`unknown cluster ${unknown.join(', ')} (configured: ${config.clusters.map((c) => c.id).join(', ')})`);
  pushFlags(v, config);
  if (v['start-jitter'] !== undefined && !v.push) throw new UsageError('--start-jitter needs --push (it spreads the pushes of a fleet)');
  // A fleet's CronJobs fire on the same tick: each waits a random moment first, so their pushes do not collide.
  const waitStarted = performance.now();
  if (v.push) await startJitter(seconds(v, 'start-jitter', config.startJitterSeconds));
  const startJitterMs = Math.round(performance.now() - waitStarted);
  // The shipped CronJob runs `sync`: its webhooks are delivered before the process exits, within --webhook-wait.
  const events = config.webhooks.length && !v['dry-run'] ? new SyncEvents() : undefined;
  const webhooks = events && new WebhookDispatcher(config.webhooks, process.env, createLog());
  if (events) webhooks!.attach(events);
  const { results, push, pushError, pullRequests, stateWarnings } = await runSync(config, {
    push: v.push, events, partialClone: true,
    clusterIds: v.cluster, dryRun: v['dry-run'], allowMassDelete: v['allow-mass-delete'], lockWaitMs: lockWait * 1000,
    onTypeDone: tty ? (id, type, _c, error) => process.stderr.write(`${id} ${type}${error ? ` FAILED: ${error}` : ''}\n`) : undefined,
  });
  if (v.json) {
    const out = results.map(({ changes, ...r }) => (r.dryRun ? { ...r, changes } : r));
    const body = out.length === 1 ? out[0] : out;
    console.log(JSON.stringify(v.push ? { results: out, push: push ?? null, pushError, startJitterMs, ...(pullRequests ? { pullRequests } : {}) } : body, null, 2));
  } else {
    printSummary(results);
    for (const p of pullRequests ?? []) console.log(`${p.clusterId}: pull request ${p.action}${p.number ? ` #${p.number} ${p.url}` : ''}`);
    if (push) console.log(push.upToDate ? 'push: remote already up to date' : `push: ${push.commit?.slice(0, 10)} after ${push.attempts} attempt(s), ${push.replayed} commit(s) re-applied on the remote head`);
  }
  for (const w of (pullRequests ?? []).flatMap((p) => p.warnings)) console.error(`kubetrail: warning: ${w}`);
  if (pushError) console.error(`kubetrail: ${pushError}`);
  for (const w of stateWarnings ?? []) console.error(`kubetrail: warning: ${w}`);
  const undelivered = await webhooks?.close(webhookWait * 1000);
  if (undelivered?.length) {
    console.error(`kubetrail: warning: ${undelivered.length} webhook deliveries not made within ${webhookWait} s: ${[...new Set(undelivered.map((d) => d.url))].join(', ')}`);
  }
  return exitCodeFor(results, pushError);
}

async function types(v: Values): Promise<number> {
  const config = loadConfig(configFlags(v));
  const clusters = v.cluster ? config.clusters.filter((c) => v.cluster!.includes(c.id)) : config.clusters;
  const out = [];
  for (const cluster of clusters) {
    const client = createKubeClient(cluster.id, resolveAccess(cluster));
    const discovery = await discoverTypes(client);
    const crds = cluster.discovery.includeCRDs ? new Set<string>() : await crdDefinedTypes(client, cluster.discovery.crdCacheTTL);
    const sel = selectTypes(discovery.types, cluster.discovery, crds);
    out.push({
      clusterId: cluster.id,
      selected: sel.selected.map((t) => ({ type: t.name, scope: t.namespaced ? 'Namespaced' : 'Cluster' })),
      excluded: sel.excluded.map((e) => ({ type: e.type.name, reason: e.reason })),
      failedGroups: discovery.failedGroups,
    });
  }
  if (v.json || !process.stdout.isTTY) {
    console.log(JSON.stringify(out.length === 1 ? out[0] : out, null, 2));
  } else {
    for (const c of out) {
      console.log(`cluster ${c.clusterId}: ${c.selected.length} types synced, ${c.excluded.length} left out`);
      for (const t of c.selected) console.log(`  ${pad(t.type, 56)} ${t.scope}`);
      for (const t of c.excluded) console.log(`  ${pad(t.type, 56)} excluded: ${t.reason}`);
      for (const g of c.failedGroups) console.log(`  ${pad(`${g.group}/${g.version ?? '*'}`, 56)} FAILED: ${g.reason}`);
    }
  }
  return out.some((c) => c.failedGroups.length > 0) ? 3 : 0;
}

async function serve(v: Values, schedule: boolean): Promise<number> {
  const config = loadConfig(configFlags(v));
  if (schedule && config.mode !== 'watch' && scheduleGroups(config).size === 0) {
    throw new ConfigError('schedule', 'kubetrail run needs a schedule: set schedule (cron) globally or per cluster, or mode: watch');
  }
  const port = v.port === undefined ? undefined : Number(v.port);
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535)) throw new UsageError('--port must be 0-65535');
  const log = createLog();
  const { startApi, untilSignal } = await import('./serve.ts'); // the HTTP server and prom-client: not loaded by `sync`
  const service = await startApi(config, { port, log, schedule });
  const watchFailed = new Promise<string>((resolve) => service.watch?.catch(() => resolve('watch failed')));
  const signal = await Promise.race([untilSignal(), watchFailed]);
  log({ msg: 'stopping', signal });
  await service.stop();
  return signal === 'watch failed' ? 1 : 0;
}

async function churn(v: Values): Promise<number> {
  if ((v.cluster?.length ?? 0) > 1) throw new UsageError('churn takes one --cluster');
  const { runChurn } = await import('./commands/churn.ts');
  return runChurn(loadConfig(configFlags(v)), { clusterId: v.cluster?.[0], since: v.since, json: v.json });
}

async function watch(v: Values): Promise<number> {
  const config = loadConfig(configFlags(v));
  const commitInterval = seconds(v, 'commit-interval', config.watch.commitIntervalSeconds);
  const discoveryInterval = seconds(v, 'discovery-interval', config.watch.discoveryIntervalSeconds);
  if (commitInterval <= 0 || discoveryInterval <= 0) throw new UsageError('--commit-interval and --discovery-interval must be more than 0 seconds');
  pushFlags(v, config);
  const { watchCommand } = await import('./commands/watch.ts');
  return watchCommand({
    config, clusterIds: v.cluster, lockWaitSeconds: seconds(v, 'lock-wait', 60), push: Boolean(v.push),
    commitIntervalSeconds: commitInterval, discoveryIntervalSeconds: discoveryInterval,
  });
}

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const { values: v, positionals } = parsed;
  if (v.version) return console.log(VERSION), 0;
  const command = positionals[0];
  if (v.help || !command) return console.log(HELP), command || v.help ? 0 : 2;
  if (positionals.length > 1) throw new UsageError(`unexpected argument "${positionals[1]}"`);
  const allowed = COMMAND_OPTIONS[command];
  const foreign = allowed && Object.keys(v).find((k) => !allowed.includes(k));
  if (foreign) throw new UsageError(`--${foreign} is not an option of "kubetrail ${command}" (try --help)`);
  switch (command) {
    case 'sync': return sync(v);
    case 'types': return types(v);
    case 'serve': return serve(v, false);
    case 'run': return serve(v, true);
    case 'churn': return churn(v);
    case 'watch': return watch(v);
    case 'export': return exportCommand({ config: loadConfig(configFlags(v)), clusterId: oneCluster(v, true)!, at: v.at, type: v.type, namespace: v.namespace, output: v.output, json: v.json, decrypt: v.decrypt });
    case 'diff': return diffCommand({ flags: configFlags(v), clusterId: oneCluster(v, false), at: v.at, type: v.type, namespace: v.namespace, json: v.json });
    default: throw new UsageError(`unknown command "${command}" (try --help)`);
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exitCode = code,
  (e: unknown) => {
    if (e instanceof UsageError) {
      console.error(`kubetrail: ${e.message}`);
      process.exitCode = 2;
    } else if (e instanceof ConfigError) {
      console.error(`kubetrail: config error: ${e.message}`);
      process.exitCode = 1;
    } else {
      console.error(`kubetrail: ${(e as Error).message ?? e}`);
      process.exitCode = 1;
    }
  },
);
