// A fleet on one tick (issue 18 §3), at the size CI can afford: 8 clusters' CronJob-style runs (empty volume each
// time) every 40 s for 3 rounds, all pushing to one branch. `npm run bench` runs the same at 32 × 10 every minute.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGitServer, type GitServer } from '../../env/git-server.ts';
import { clusterIds, inspectRemote, prepareFleet, runFleet, summarize, type FleetOptions } from '../../helpers/fleet.ts';
import { adminClient, runCli, runtime, tempDir, testenv } from '../../helpers/testenv.ts';

describe(`a fleet of 8 clusters pushing to one branch on the same tick (CLI under ${runtime})`, () => {
  let server: GitServer;
  let o: FleetOptions;

  beforeAll(async () => {
    const token = `fleet-${runtime}`;
    server = await startGitServer({ root: tempDir('fleet-remote'), token });
    server.createBareRepo('fleet.git');
    o = {
      clusters: 8, rounds: 3, intervalMs: 40_000, startJitterSeconds: 2,
      remoteUrl: server.repoUrl('fleet.git'), token, kubeconfig: testenv().KUBECONFIG, work: tempDir('fleet'),
      prefix: `fleet-${runtime}-`, client: adminClient(), runCli: (args, env) => runCli(args, { env }),
    };
    await prepareFleet(o);
  });
  afterAll(() => server?.close());

  it('every round of every cluster lands, in order, on a linear history; each run within its interval', async () => {
    const report = await runFleet(o);
    const summary = summarize(o, report);
    console.log(`fleet ${runtime}: ${JSON.stringify(summary)}`);
    expect(report.runs.filter((r) => r.code !== 0).map((r) => `${r.id} round ${r.round}: ${r.stderr}`)).toEqual([]);
    expect(summary).toMatchObject({ attempted: 24, landed: 24, skipped: 0, failed: 0 });
    expect(summary.tickToLandedMs.max).toBeLessThan(o.intervalMs);
    const remote = inspectRemote(o, join(tempDir('fleet-verify'), 'clone'));
    expect(remote.fsck).toBe('');
    expect(remote.linear).toBe(true);
    expect(remote.onlyOwnSubtree).toBe(true);
    for (const id of clusterIds(o)) expect(remote.rounds.get(id), id).toEqual(['1', '2', '3']);
  }, 300_000);
});
