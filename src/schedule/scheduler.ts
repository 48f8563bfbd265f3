// Scheduled syncs (croner). Clusters sharing a schedule run together, in parallel up to `concurrency`.
// Overlap is prevented by the library's per-cluster guard, which also covers HTTP-triggered syncs
// (croner's `protect` would only cover its own runs).
import { Cron } from 'croner';
import type { Config } from '../config/types.ts';
import type { Kubetrail } from '../kubetrail.ts';
import type { Log } from '../log.ts';

export interface Scheduler { stop(): Promise<void>; jobs: { schedule: string; clusters: string[]; next?: Date }[] }

export function scheduleGroups(config: Config): Map<string, string[]> {
  const groups = new Map<string, string[]>();
  for (const c of config.clusters) {
    const schedule = c.schedule ?? config.schedule;
    if (!schedule) continue;
    groups.set(schedule, [...(groups.get(schedule) ?? []), c.id]);
  }
  return groups;
}

/** A random wait of 0…`seconds`, cut short by `signal` (resolves false then). */
export function startJitter(seconds: number, signal?: AbortSignal, random = Math.random()): Promise<boolean> {
  if (seconds <= 0 || signal?.aborted) return Promise.resolve(!signal?.aborted);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(true), random * seconds * 1000);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve(false);
    }, { once: true });
  });
}

export function startScheduler(config: Config, kubetrail: Kubetrail, log: Log): Scheduler {
  const inFlight = new Set<Promise<unknown>>();
  const crons: Cron[] = [];
  const jobs: Scheduler['jobs'] = [];
  const stopping = new AbortController();
  for (const [schedule, clusters] of scheduleGroups(config)) {
    const cron = new Cron(schedule, { timezone: config.timezone, protect: true }, async () => {
      // Pushing daemons of a fleet share the cron tick: spread their pushes (startJitterSeconds).
      const jitter = config.remote ? config.startJitterSeconds : 0;
      if (!await startJitter(jitter, stopping.signal)) return;
      const idle = clusters.filter((id) => !kubetrail.isSyncing(id));
      const busy = clusters.filter((id) => kubetrail.isSyncing(id));
      if (busy.length) log({ msg: 'scheduled sync skipped: still running', clusters: busy });
      if (!idle.length) return;
      const run = kubetrail.syncClusters(idle).then(
        (r) => r.results.forEach((res) => {
          // In pull-request mode, what happened to the cluster's PR; its failure or warning sets the line's level.
          const pullRequest = r.pullRequests?.find((p) => p.clusterId === res.clusterId);
          const level = r.pushError ? 'error' : pullRequest?.warnings.length ? 'warn' : 'info';
          log({
            level, msg: 'scheduled sync done', cluster: res.clusterId, status: res.status, commit: res.commit, pushed: r.push?.commit,
            pushError: r.pushError, ...(pullRequest ? { pullRequest } : {}),
          });
        }),
        (e) => log({ level: 'error', msg: 'scheduled sync failed', clusters: idle, error: (e as Error).message }),
      );
      inFlight.add(run);
      await run;
      inFlight.delete(run);
    });
    crons.push(cron);
    jobs.push({ schedule, clusters, next: cron.nextRun() ?? undefined });
  }
  return {
    jobs,
    /** Stops scheduling and waits for runs in progress to finish, so the repository is left as a run leaves it. */
    async stop() {
      crons.forEach((c) => c.stop());
      stopping.abort();
      await Promise.allSettled([...inFlight]);
    },
  };
}
