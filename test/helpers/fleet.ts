// A fleet of CronJob-style runs pushing to one branch of one remote on the same tick (issue 18 §3): each cluster id
// syncs its own namespace into an empty directory (a fresh pod), then pushes. Used at a reduced size by the e2e
// test and at full size by the bench; no vitest here, so both can import it.
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KubeClient } from '../../src/kube/client.ts';

export interface FleetOptions {
  clusters: number;
  rounds: number;
  /** Time between two ticks; a run still going at the next tick skips it (CronJob concurrencyPolicy: Forbid). */
  intervalMs: number;
  startJitterSeconds: number;
  remoteUrl: string;
  token: string;
  kubeconfig: string;
  work: string;
  prefix: string;
  client: KubeClient;
  /** Runs the CLI with these arguments and environment; resolves with its exit code and output. */
  runCli(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }>;
}

export interface FleetRun {
  id: string;
  round: number;
  code: number;
  /** ms from the tick to the process's exit with its push landed (undefined: the run failed or was skipped). */
  tickToLandedMs?: number;
  /** The same, less the start jitter the run waited first: the run's own time, process start-up included. */
  runToLandedMs?: number;
  pushAttempts?: number;
  skipped?: boolean;
  stderr: string;
}

export interface FleetReport {
  runs: FleetRun[];
  /** ms from each tick to the last push of that round landing. */
  roundWallMs: number[];
}

export const clusterIds = (o: Pick<FleetOptions, 'clusters' | 'prefix'>) => Array.from({ length: o.clusters }, (_, i) => `${o.prefix}${i}`);

/** The namespaces, one ConfigMap each, and a config per cluster; odd clusters also record ServiceAccounts. */
export async function prepareFleet(o: FleetOptions): Promise<void> {
  mkdirSync(o.work, { recursive: true });
  for (const [i, id] of clusterIds(o).entries()) {
    await ensure(o.client, '/api/v1/namespaces', { metadata: { name: id } });
    await ensure(o.client, `/api/v1/namespaces/${id}/configmaps`, { metadata: { name: 'state' }, data: { round: '0' } });
    writeFileSync(join(o.work, `${id}.yaml`), [
      `repo: ${join(o.work, 'pods', id)}`,
      'bare: true', // as shipped: each run a partial clone of the head
      `startJitterSeconds: ${o.startJitterSeconds}`,
      `remote: {url: ${o.remoteUrl}, branch: main, allowInsecureHttp: true}`,
      'clusters:',
      `  - id: ${id}`,
      `    kubeconfig: ${o.kubeconfig}`,
      `    namespaces: [${id}]`,
      `    select: [core.v1.ConfigMap${i % 2 ? ', core.v1.ServiceAccount' : ''}]`,
    ].join('\n'));
  }
}

async function ensure(client: KubeClient, collection: string, body: unknown): Promise<void> {
  const res = await client.request(collection, { method: 'POST', body });
  if (res.status !== 201 && res.status !== 409) throw new Error(`create in ${collection}: ${res.status}`);
}

/** Runs the rounds: at each tick every cluster's ConfigMap changes, then every idle cluster's run starts. */
export async function runFleet(o: FleetOptions): Promise<FleetReport> {
  const ids = clusterIds(o);
  const busy = new Map<string, Promise<void>>();
  const runs: FleetRun[] = [];
  const roundWallMs: number[] = [];
  const started = performance.now();
  const roundsDone: Promise<void>[] = [];
  for (let round = 1; round <= o.rounds; round++) {
    const tick = started + (round - 1) * o.intervalMs;
    await new Promise((r) => setTimeout(r, Math.max(0, tick - performance.now())));
    await Promise.all(ids.map(async (id) => { // an update without resourceVersion: unconditional
      const res = await o.client.request(`/api/v1/namespaces/${id}/configmaps/state`, {
        method: 'PUT', body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'state', namespace: id }, data: { round: String(round) } },
      });
      if (res.status !== 200) throw new Error(`update ${id}/state: ${res.status}`);
    }));
    const thisRound: Promise<void>[] = [];
    for (const id of ids) {
      if (busy.has(id)) {
        runs.push({ id, round, code: -1, skipped: true, stderr: 'still running at the next tick' });
        continue;
      }
      const run = (async () => {
        rmSync(join(o.work, 'pods', id), { recursive: true, force: true }); // a fresh pod: an empty volume
        const res = await o.runCli(['sync', '--config', join(o.work, `${id}.yaml`), '--push', '--json'], { KUBETRAIL_GIT_TOKEN: o.token });
        const landed = performance.now() - tick;
        let out: { push?: { commit?: string; attempts?: number }; startJitterMs?: number } = {};
        try { out = JSON.parse(res.stdout); } catch { /* a failed run prints no JSON */ }
        const ok = res.code === 0 && !!out.push?.commit;
        runs.push({
          id, round, code: res.code, tickToLandedMs: ok ? landed : undefined, runToLandedMs: ok ? landed - (out.startJitterMs ?? 0) : undefined,
          pushAttempts: out.push?.attempts, stderr: res.stderr,
        });
      })().finally(() => busy.delete(id));
      busy.set(id, run);
      thisRound.push(run);
    }
    roundsDone.push(Promise.all(thisRound).then(() => void roundWallMs.push(performance.now() - tick)));
  }
  await Promise.all(roundsDone);
  return { runs, roundWallMs };
}

/** What the remote says about the fleet: history shape and each cluster's recorded rounds, from the git CLI. */
export function inspectRemote(o: FleetOptions, clone: string): { linear: boolean; fsck: string; rounds: Map<string, string[]>; onlyOwnSubtree: boolean } {
  const git = (args: string[]) => execFileSync('git', ['-C', clone, ...args], { encoding: 'utf8' });
  rmSync(clone, { recursive: true, force: true });
  execFileSync('git', ['clone', '-q', o.remoteUrl.replace('://', `://x:${o.token}@`), clone]);
  const rounds = new Map<string, string[]>();
  let onlyOwnSubtree = true;
  for (const id of clusterIds(o)) {
    const file = `clusters/${id}/core.v1.ConfigMap/${id}/state.yaml`;
    rounds.set(id, git(['log', '--reverse', '-p', '--format=', '--', file]).split('\n')
      .filter((l) => /^\+\s+round:/.test(l)).map((l) => l.replace(/\D/g, '')));
    for (const c of git(['log', '--format=%H', `--grep=^Kubetrail-Cluster: ${id}$`]).trim().split('\n').filter(Boolean)) {
      if (!git(['show', '--name-only', '--format=', c]).trim().split('\n').every((p) => p.startsWith(`clusters/${id}/`))) onlyOwnSubtree = false;
    }
  }
  return { linear: git(['rev-list', '--merges', 'HEAD']) === '', fsck: git(['fsck', '--strict', '--no-dangling']), rounds, onlyOwnSubtree };
}

/** p-th percentile (0-100) by nearest rank. */
export function percentile(xs: number[], p: number): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/** The bench's and the test's summary of a fleet run. */
export function summarize(o: FleetOptions, r: FleetReport) {
  const landed = r.runs.filter((x) => x.tickToLandedMs !== undefined);
  const retries = landed.map((x) => (x.pushAttempts ?? 1) - 1);
  const times = landed.map((x) => x.tickToLandedMs!);
  const own = landed.map((x) => x.runToLandedMs!);
  return {
    clusters: o.clusters, rounds: o.rounds, intervalMs: o.intervalMs, startJitterSeconds: o.startJitterSeconds,
    attempted: o.clusters * o.rounds, landed: landed.length, skipped: r.runs.filter((x) => x.skipped).length,
    failed: r.runs.filter((x) => !x.skipped && x.tickToLandedMs === undefined).length,
    retriesPerPush: { p50: percentile(retries, 50), p99: percentile(retries, 99), max: Math.max(...retries) },
    tickToLandedMs: { p50: percentile(times, 50), p99: percentile(times, 99), max: Math.max(...times) },
    runToLandedMs: { p50: percentile(own, 50), p99: percentile(own, 99), max: Math.max(...own) },
    roundWallMs: { p50: percentile(r.roundWallMs, 50), max: Math.max(...r.roundWallMs) },
  };
}
