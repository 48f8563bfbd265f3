// Crash order of the store: kill -9 at every store step (KUBETRAIL_FAILPOINT, src/store/failpoint.ts) leaves a
// repository `git fsck` accepts, and the next run converges with working tree and index matching HEAD; strace
// shows every object, pack and index durable before the ref that names them.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { objectId } from '../../../src/store/codec.ts';
import { ObjectWriter } from '../../../src/store/loose.ts';
import { createMany } from '../../helpers/objects.ts';
import { ensureNamespace } from '../../helpers/rbac.ts';
import { adminClient, git, kubectl, root, runCli, runtime, spawnCli, tempDir, testenv } from '../../helpers/testenv.ts';

const client = adminClient();
const ns = `durable-${runtime}`;
const OBJECTS = 300; // a first sync writes 100 loose objects, then a pack

function config(dir: string): string {
  const file = join(dir, 'kubetrail.yaml');
  writeFileSync(file, [`repo: ${join(dir, 'repo')}`, 'clusters:', '  - id: durable', `    kubeconfig: ${testenv().KUBECONFIG}`,
    `    namespaces: [${ns}]`, '    select: [core.v1.ConfigMap]'].join('\n'));
  return file;
}

/** Runs a sync that kills itself at `step`; returns how it ended. */
async function syncKilledAt(file: string, step: string): Promise<string | null> {
  const child = spawnCli(['sync', '--config', file], { env: { KUBETRAIL_FAILPOINT: step } });
  let stderr = '';
  child.stderr.on('data', (d) => stderr += d);
  await new Promise((r) => child.once('exit', r));
  if (child.signalCode !== 'SIGKILL') throw new Error(`sync was not killed at ${step} (exit ${child.exitCode}): ${stderr}`);
  return child.signalCode;
}

/** What a person would check after a crash: fsck clean, nothing of ours left in the way. */
function expectValid(repo: string): void {
  expect(git(repo, ['fsck', '--full', '--strict', '--no-dangling'])).toBe('');
}

/** The repository is whole and checked out: HEAD is what the cluster has, working tree and index match it. */
function expectConverged(repo: string, objects: number, garbage = 0): void {
  expect(git(repo, ['fsck', '--full', '--strict', '--no-dangling'])).toBe('');
  expect(git(repo, ['status', '--porcelain'])).toBe('');
  expect(git(repo, ['diff', '--cached', '--stat'])).toBe('');
  expect(git(repo, ['ls-files']).trim().split('\n')).toHaveLength(objects);
  expect(git(repo, ['count-objects', '-v'])).toMatch(new RegExp(`^garbage: ${garbage}$`, 'm'));
  expect(existsSync(join(repo, '.git', 'kubetrail-checkout-pending'))).toBe(false);
  const leftovers = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? leftovers(join(dir, e.name)) : /\.lock$|\.kubetrail-/.test(e.name) ? [join(dir, e.name)] : []);
  expect(leftovers(join(repo, '.git')).filter((f) => !f.endsWith('kubetrail.lock'))).toEqual([]);
}

const patchOne = (i: number, value: string) => kubectl(['-n', ns, 'patch', 'configmap', `cm-${i}`, '-p', JSON.stringify({ data: { v: value } })]);

beforeAll(async () => {
  await ensureNamespace(client, ns);
  await createMany(client, `/api/v1/namespaces/${ns}/configmaps`, Array.from({ length: OBJECTS }, (_, i) => ({
    apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cm-${i}` }, data: { v: '0' },
  })));
});

describe(`durability: kill -9 at every store step (CLI under ${runtime})`, () => {
  it('a first sync killed at any step leaves a valid repository; the next run converges', async () => {
    for (const step of ['pack-before-rename', 'pack-between-renames', 'before-ref', 'ref-locked', 'after-ref', 'worktree-written', 'checkout-done']) {
      const dir = tempDir('durable-first');
      const file = config(dir);
      const repo = join(dir, 'repo');
      await syncKilledAt(file, step);
      expectValid(repo);
      const res = await runCli(['sync', '--config', file, '--json']);
      expect(res.code, `${step}: ${res.stderr}`).toBe(0);
      // Killed between the pack's rename and its index's: a pack git ignores, removed by a run 10 s later.
      expectConverged(repo, OBJECTS, step === 'pack-between-renames' ? 1 : 0);
      expect(Number(git(repo, ['rev-list', '--count', 'HEAD'])), step).toBe(1);
    }
  }, 600_000); // seven killed runs and seven full syncs: minutes on a loaded 2-core CI machine

  it('a later sync killed at any step, and housekeeping killed while packing, lose nothing', async () => {
    const dir = tempDir('durable-next');
    const file = config(dir);
    const repo = join(dir, 'repo');
    expect((await runCli(['sync', '--config', file])).code).toBe(0);
    let version = 0;
    for (const step of ['before-ref', 'ref-locked', 'after-ref', 'worktree-written', 'checkout-done']) {
      patchOne(version % OBJECTS, `${++version}`);
      await syncKilledAt(file, step);
      expectValid(repo);
      expect((await runCli(['sync', '--config', file])).code, step).toBe(0);
      expectConverged(repo, OBJECTS);
      expect(git(repo, ['show', `HEAD:clusters/durable/core.v1.ConfigMap/${ns}/cm-${(version - 1) % OBJECTS}.yaml`]), step).toContain(`v: "${version}"`);
    }

    // Enough loose objects for housekeeping (git's estimate: objects/17 × 256), killed after its pack and
    // while deleting the loose copies: every object stays readable.
    const writer = new ObjectWriter(join(repo, '.git'));
    for (let i = 0, n = 0; n < 30; i++) {
      const content = Buffer.from(`filler ${i}\n`);
      if (objectId('blob', content).startsWith('17')) {
        await writer.write('blob', content);
        n++;
      }
    }
    for (const step of ['maintenance-packed', 'maintenance-deleting@20']) {
      patchOne(version % OBJECTS, `${++version}`);
      await syncKilledAt(file, step);
      expectValid(repo);
      expect(git(repo, ['status', '--porcelain'])).toBe(''); // its commit was done and checked out before housekeeping
    }
    expect((await runCli(['sync', '--config', file])).code).toBe(0);
    expectConverged(repo, OBJECTS);

    // 20 small packs with deltas, as a daemon's fetches leave them (git's own pack-objects, each of a few similar
    // blobs, the loose copies pruned): housekeeping merges them, killed while copying, after its pack, deleting.
    const packs = () => readdirSync(join(repo, '.git/objects/pack')).filter((f) => f.endsWith('.pack')).length;
    for (let p = 0; p < 20; p++) {
      const oids = Array.from({ length: 4 }, (_, b) => execFileSync('git', ['-C', repo, 'hash-object', '-w', '--stdin'],
        { input: Array.from({ length: 40 }, (_, l) => `key${l}: ${l === p ? b : l}`).join('\n'), encoding: 'utf8' }).trim());
      execFileSync('git', ['-C', repo, 'pack-objects', '-q', '.git/objects/pack/pack'], { input: oids.join('\n') });
    }
    git(repo, ['prune-packed']);
    const objects = () => git(repo, ['cat-file', '--batch-all-objects', '--batch-check']).trim().split('\n');
    const before = objects();
    const missing = () => {
      const now = new Set(objects());
      return before.filter((o) => !now.has(o));
    };
    expect(packs()).toBeGreaterThan(20);
    for (const step of ['merge-writing', 'merge-packed', 'merge-deleting@2']) {
      patchOne(version % OBJECTS, `${++version}`);
      await syncKilledAt(file, step);
      expectValid(repo);
      expect(missing(), step).toEqual([]);
      expect(git(repo, ['status', '--porcelain'])).toBe('');
    }
    expect((await runCli(['sync', '--config', file])).code).toBe(0);
    expectConverged(repo, OBJECTS);
    expect(packs()).toBeLessThanOrEqual(16);
    expect(missing()).toEqual([]);
  }, 600_000);
});

describe(`durability: the order of fsync and rename (CLI under ${runtime}, strace)`, () => {
  const strace = (() => {
    try {
      execFileSync('strace', ['-V'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  })();

  it.skipIf(!strace)('every object, pack and index is fsynced, and its directory too, before the ref names them', async () => {
    const dir = tempDir('durable-strace');
    const file = config(dir);
    const repo = join(dir, 'repo');
    const cli = join(root, 'src/cli.ts');
    const command = runtime === 'deno' ? ['deno', 'run', '-A', '--quiet', cli] : [process.execPath, cli];
    const trace = (name: string) => {
      const out = join(dir, name);
      const res = execFileSync('strace', ['-f', '-y', '-qq', '-e', 'trace=fsync,fdatasync,rename,renameat,renameat2', '-o', out,
        ...command, 'sync', '--config', file], { env: { PATH: process.env.PATH, HOME: process.env.HOME }, encoding: 'utf8' });
      return { res, calls: parseTrace(readFileSync(out, 'utf8')) };
    };
    const first = trace('first.trace'); // 100 loose objects, then a pack
    expect(checkOrder(first.calls, repo)).toEqual({ objects: expect.any(Number), packs: 2, violations: [] });
    expect(checkOrder(first.calls, repo).objects).toBeGreaterThanOrEqual(100);
    patchOne(1, 'traced');
    patchOne(2, 'traced');
    const next = trace('next.trace'); // a few loose objects
    const loose = checkOrder(next.calls, repo);
    expect(loose).toEqual({ objects: expect.any(Number), packs: 0, violations: [] });
    expect(loose.objects).toBeGreaterThanOrEqual(3); // 2 blobs, their trees, the commit
  }, 240_000);

  it.runIf(!strace)('strace is not installed: the fsync order test is skipped (apt-get install strace)', () => {
    console.warn('strace not found: skipping the fsync/rename order test (Debian: apt-get install -y strace)');
  });
});

interface Call { op: 'fsync' | 'rename'; path: string; to?: string }

/** fsync calls (by the path of their fd: strace -y) and renames, in order. */
function parseTrace(text: string): Call[] {
  const calls: Call[] = [];
  for (const line of text.split('\n')) {
    const sync = line.match(/\b(?:fsync|fdatasync)\(\d+<([^>]*)>/);
    if (sync) calls.push({ op: 'fsync', path: sync[1] });
    const rename = line.match(/\brename(?:at2?)?\((?:[^,]*, )?"([^"]*)", (?:[^,]*, )?"([^"]*)"/);
    if (rename && !/= -1/.test(line)) calls.push({ op: 'rename', path: rename[1], to: rename[2] });
  }
  return calls;
}

/**
 * Checks git's order before the branch ref is renamed into place: each object file (loose, pack, index) was
 * fsynced before its rename, and its directory fsynced after the rename; the ref's own data was fsynced.
 */
function checkOrder(calls: Call[], repo: string) {
  const ref = calls.findIndex((c) => c.op === 'rename' && c.to === join(repo, '.git/refs/heads/main'));
  const violations: string[] = [];
  if (ref < 0) return { objects: 0, packs: 0, violations: ['no rename of refs/heads/main'] };
  const synced = (path: string, from: number, to: number) => calls.slice(from, to).some((c) => c.op === 'fsync' && c.path === path);
  let objects = 0;
  let packs = 0;
  calls.slice(0, ref).forEach((c, i) => {
    if (c.op !== 'rename' || !c.to!.startsWith(join(repo, '.git/objects/'))) return;
    if (c.to!.includes('/objects/pack/')) packs++;
    else objects++;
    if (!synced(c.path, 0, i)) violations.push(`${c.to} renamed before its data was fsynced`);
    if (!synced(dirname(c.to!), i + 1, ref)) violations.push(`${c.to}: directory not fsynced before the ref moved`);
  });
  const lockData = calls.slice(0, ref).some((c) => c.op === 'fsync' && c.path.startsWith(join(repo, '.git/refs/heads/.main.kubetrail-')));
  if (!lockData) violations.push('the ref lock was not fsynced before its rename');
  if (!synced(join(repo, '.git/refs/heads'), ref + 1, calls.length)) violations.push('refs/heads not fsynced after the ref moved');
  return { objects, packs, violations };
}
