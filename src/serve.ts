// `kubetrail serve`: the HTTP API over the repository (and, for `kubetrail run`, the scheduler too).
import { readFileSync } from 'node:fs';
import { apiAccess } from './api/access.ts';
import { createApp } from './api/app.ts';
import { Metrics } from './api/metrics.ts';
import type { Config } from './config/types.ts';
import { createKubetrail, type Kubetrail } from './kubetrail.ts';
import type { Log } from './log.ts';
import { startScheduler } from './schedule/scheduler.ts';
import { WebhookDispatcher } from './webhooks/webhooks.ts';
import { serveHttp, type RunningServer } from './runtime/serve.ts';

export interface Service {
  kubetrail: Kubetrail; server: RunningServer; stop(): Promise<void>;
  /** `mode: watch`: rejects when the watch fails (the daemon then exits non-zero and its pod restarts). */
  watch?: Promise<void>;
}

export async function startApi(
  config: Config, o: { port?: number; log: Log; env?: Record<string, string | undefined>; schedule?: boolean },
): Promise<Service> {
  const env = o.env ?? process.env;
  const access = apiAccess(config.api, env); // before anything starts: a token that can never be presented is a config error
  const kubetrail = await createKubetrail(config, { env, push: Boolean(config.remote) });
  const metrics = new Metrics();
  kubetrail.on('cluster.sync.completed', ({ result }) => {
    metrics.recordSync(result);
    const { changes: _c, types: _t, ...summary } = result;
    o.log({ level: result.status === 'failed' || result.status === 'refused' ? 'error' : 'info', msg: 'sync completed', ...summary });
  });
  const webhooks = new WebhookDispatcher(config.webhooks, env, o.log);
  webhooks.attach(kubetrail.events);
  const app = createApp({ kubetrail, metrics, log: o.log, access });
  const tls = config.api.tlsCertFile && config.api.tlsKeyFile
    ? { cert: readFileSync(config.api.tlsCertFile, 'utf8'), key: readFileSync(config.api.tlsKeyFile, 'utf8') } : undefined;
  const server = await serveHttp(app.fetch, { port: o.port ?? config.api.port, hostname: config.api.host, tls });
  o.log({ msg: 'listening', port: server.port, tls: Boolean(tls), repo: config.repo, clusters: config.clusters.map((c) => c.id) });
  o.log({ level: access.notice.level, msg: access.notice.msg, anonymousReads: access.anonymousReads });
  const warming = performance.now();
  kubetrail.history.warm().then(
    (commits) => o.log({ msg: 'history index loaded', commits: commits ?? 0, ms: Math.round(performance.now() - warming) }),
    (e) => o.log({ level: 'warn', msg: 'history index not loaded: queries walk commits', error: String(e) }),
  );
  const watching = o.schedule && config.mode === 'watch';
  const scheduler = o.schedule && !watching ? startScheduler(config, kubetrail, o.log) : undefined;
  if (scheduler) o.log({ msg: 'scheduled', jobs: scheduler.jobs });
  const watchStop = new AbortController();
  const watch = watching ? startWatch(config, kubetrail, o.log, env, watchStop.signal) : undefined;
  return {
    kubetrail, server, watch,
    /** Stops scheduling (or the watch), lets runs in progress finish (the repository stays valid), then closes the server. */
    async stop() {
      await scheduler?.stop();
      watchStop.abort();
      await watch?.catch(() => {}); // its failure was logged
      const undelivered = await webhooks.close(5000);
      if (undelivered.length) o.log({ level: 'warn', msg: 'webhook deliveries not made before stopping', count: undelivered.length, urls: [...new Set(undelivered.map((d) => d.url))] });
      await server.close();
    },
  };
}

/** `kubetrail run` with `mode: watch`: the clusters watched, their window commits published when a remote is set. */
async function startWatch(config: Config, kubetrail: Kubetrail, log: Log, env: Record<string, string | undefined>, signal: AbortSignal): Promise<void> {
  const clusters = config.clusters.map((c) => c.id);
  kubetrail.watching(clusters);
  const { runWatch } = await import('./watch/run-watch.ts');
  log({ msg: 'watching', clusters, commitIntervalSeconds: config.watch.commitIntervalSeconds });
  try {
    await runWatch({
      config, push: Boolean(config.remote), signal, env, events: kubetrail.events,
      commitIntervalMs: config.watch.commitIntervalSeconds * 1000, discoveryIntervalMs: config.watch.discoveryIntervalSeconds * 1000,
      lockWaitMs: 10 * 60_000,
      report: (line) => log({ level: 'warn', msg: line }),
      onCommit: (cluster, commit, c) => log({ msg: 'watch commit', cluster, commit, added: c.added.length, changed: c.changed.length, deleted: c.deleted.length }),
      onWatching: (cluster, types) => log({ msg: 'watching types', cluster, types }),
      onPublished: (r) => log({ level: r.error ? 'error' : 'info', msg: 'published', pushed: r.pushed, pullRequests: r.pullRequests, error: r.error }),
    });
  } catch (e) {
    log({ level: 'error', msg: 'watch failed', error: (e as Error).message });
    throw e;
  }
}

/** Resolves when SIGTERM or SIGINT arrives. */
export function untilSignal(): Promise<string> {
  return new Promise((resolve) => {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => resolve(signal));
  });
}
