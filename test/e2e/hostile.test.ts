// A real aggregated API (test/env/aggregated-api.ts, proxied by the real apiserver's aggregator) that serves
// hostile names and namespaces, hostile Kinds, a 30 s stall, garbage JSON and a 50 MiB list. A sync must end
// partial in bounded time and memory, write nothing outside clusters/<id>/ and nothing git refuses, and never
// record a type it could not read as deleted.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { discoverTypes } from '../../src/kube/discovery.ts';
import { isPlainSegment } from '../../src/model/object-path.ts';
import {
  GROUP, HOSTILE_NAMES, HOSTILE_NAMESPACES, register, startAggregatedApi, unregister, type AggregatedApi,
} from '../env/aggregated-api.ts';
import { adminClient, git, root, runCli, tempDir, testenv } from '../helpers/testenv.ts';
import { createTestHost, type TestHost } from '../env/netns.ts';

const client = adminClient();
const cli = join(root, 'src/cli.ts');
const maxRss = join(root, 'test/fixtures/report-max-rss.ts');
const type = (kind: string) => `${GROUP}.v1.${kind}`;

/** A sync as a separate Node process, with its peak RSS. */
async function sync(config: string) {
  const started = Date.now();
  const res = await runCli(['sync', '--config', config, '--json'], { command: [process.execPath, ['--import', maxRss, cli]] });
  const rssMiB = Number(res.stderr.match(/maxRSS-KiB=(\d+)/)?.[1]) / 1024;
  return { ...res, seconds: (Date.now() - started) / 1000, rssMiB, result: res.stdout ? JSON.parse(res.stdout) : undefined };
}

describe('a hostile aggregated API', () => {
  let api: AggregatedApi;
  let host: TestHost | undefined;
  beforeAll(async () => {
    // The aggregator reaches the server through a test host of our own (Endpoints refuse loopback addresses).
    host = createTestHost();
    api = await startAggregatedApi(host.peer);
    await host.forward(8443, api.port);
    await register(client, host.address, 8443);
    for (let i = 0; !(await discoverTypes(client)).types.some((t) => t.name === type('Hostile')); i++) {
      if (i > 120) throw new Error('the aggregated API never appeared in discovery');
      await new Promise((r) => setTimeout(r, 500));
    }
  }, 120_000);
  afterAll(async () => {
    // Gone from discovery before the server stops: a later whole-cluster sync must not see a stale group.
    await unregister(client);
    for (let i = 0; i < 60 && (await discoverTypes(client)).types.some((t) => t.group === GROUP); i++) await new Promise((r) => setTimeout(r, 500));
    await api?.close();
    host?.close();
  });

  it('ends partial in bounded time and memory, writes only safe paths, and keeps what it could not read', async () => {
    const dir = tempDir('hostile');
    const repo = join(dir, 'repo');
    const config = join(dir, 'kubetrail.yaml');
    writeFileSync(config, [`repo: ${repo}`, 'clusters:', '  - id: hostile', `    kubeconfig: ${testenv().KUBECONFIG}`,
      `    select: ["${GROUP}.*"]`, '    requestTimeoutSeconds: 5'].join('\n'));

    // First the API behaves: its objects are recorded.
    api.mode = 'benign';
    const first = await sync(config);
    expect(first.code, first.stderr).toBe(3); // partial: the two types with unusable Kinds
    const recorded = git(repo, ['ls-tree', '-r', '--name-only', 'HEAD']).trim().split('\n');
    for (const kind of ['Stall', 'Garbage', 'Huge']) {
      const plural = `${kind.toLowerCase()}s`;
      for (const n of ['a', 'b']) expect(recorded).toContain(`clusters/hostile/${type(kind)}/_cluster/${plural}-${n}.yaml`);
    }

    // Then it stalls, sends garbage and 50 MiB.
    api.mode = 'hostile';
    const second = await sync(config);
    expect(second.code, second.stderr).toBe(3);
    expect(second.seconds).toBeLessThan(90); // the stall is cut by requestTimeoutSeconds: 4 tries of 5 s (23 s measured)
    const failed = Object.fromEntries(second.result.failedTypes.map((f: { type: string; reason: string }) => [f.type, f.reason]));
    expect(failed[type('Stall')]).toMatch(/^timeout after 5000 ms: GET \/apis\/hostile\.kubetrail\.test\/v1\/stalls/);
    expect(failed[type('Garbage')]).toMatch(/^invalid JSON in the answer to GET \/apis\/hostile\.kubetrail\.test\/v1\/garbages/);
    expect(failed[type('Huge')]).toMatch(/^response over 16 MiB: GET \/apis\/hostile\.kubetrail\.test\/v1\/huges\?limit=1 /);
    expect(failed[type('%2E%2E')]).toBe('discovery reported an unusable kind "..": the type is not read');
    expect(failed[type('%2Egit')]).toBe('discovery reported an unusable kind ".git": the type is not read');
    expect(Object.keys(failed)).toHaveLength(5);
    // Measured: 122 MiB for the first sync, 176 MiB for this one; 367 MiB when the 50 MiB list was read whole.
    expect(second.rssMiB).toBeLessThan(250);

    // Never recorded as deleted: the files of the types that failed are all still there.
    expect(second.result.deleted).toBe(0);
    const paths = git(repo, ['ls-tree', '-r', '--name-only', 'HEAD']).trim().split('\n');
    for (const p of recorded) expect(paths).toContain(p);

    // Nothing outside clusters/hostile/, every segment plain, and git itself has no complaint.
    expect(git(repo, ['fsck', '--full', '--strict', '--no-dangling'])).toBe('');
    for (const p of paths) {
      expect(p.startsWith('clusters/hostile/'), p).toBe(true);
      expect(p.split('/'), p).toHaveLength(5);
      for (const segment of p.split('/')) expect(isPlainSegment(segment), JSON.stringify(p)).toBe(true);
    }
    expect(git(repo, ['status', '--porcelain'])).toBe('');

    // Every hostile object is recorded, each in its own file, with its real name and namespace inside.
    const hostile = paths.filter((p) => p.startsWith(`clusters/hostile/${type('Hostile')}/`));
    expect(hostile).toHaveLength(HOSTILE_NAMES.length * HOSTILE_NAMESPACES.length);
    const seen = new Set<string>();
    for (const p of hostile) {
      const obj = parse(git(repo, ['show', `HEAD:${p}`]));
      expect(obj.spec, p).toEqual({ ns: obj.metadata.namespace, name: obj.metadata.name });
      seen.add(JSON.stringify([obj.metadata.namespace, obj.metadata.name]));
    }
    expect(seen.size).toBe(hostile.length);
    expect(paths).toContain(`clusters/hostile/${type('Hostile')}/default/fine-name.yaml`); // valid names as they are
    const dir0 = `clusters/hostile/${type('Hostile')}`;
    expect(paths).toContainEqual(expect.stringMatching(new RegExp(`^${dir0}/default/_GIT~[0-9a-f]{16}\\.yaml$`))); // encoded names
    expect(paths).toContainEqual(expect.stringMatching(new RegExp(`^${dir0}/_git~[0-9a-f]{16}/fine-name\\.yaml$`))); // encoded namespaces
    expect(paths).toContainEqual(expect.stringMatching(new RegExp(`^${dir0}/_cluster~[0-9a-f]{16}/fine-name\\.yaml$`)));
  }, 240_000);
});
