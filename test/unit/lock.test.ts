// The repository lock as a lease: stale by heartbeat, not by pid; taken over by exactly one waiter; released only
// by its owner. Contenders are real processes (test/helpers/lock-contender.ts).
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lockRepo } from '../../src/store/lock.ts';

const contender = new URL('../helpers/lock-contender.ts', import.meta.url).pathname;
const gitdir = () => mkdtempSync(join(tmpdir(), 'kt-lock-'));
const lockFile = (dir: string) => join(dir, 'kubetrail.lock');

function contend(dir: string, turns: number, staleMs: number, o: { die?: boolean; startAt?: number } = {}): Promise<{ turns: number; collisions: number }> {
  return new Promise((resolve, reject) => {
    const args = [contender, dir, String(turns), String(staleMs), ...(o.die ? ['--die'] : [])];
    execFile(process.execPath, args, { timeout: 180_000, env: { ...process.env, START_AT: String(o.startAt ?? 0) } }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${error.message}\n${stderr}`));
      else resolve(JSON.parse(stdout));
    });
  });
}

/** A lock as another pod writes it: another host name, so its pid says nothing here. */
const foreignLock = (dir: string) => writeFileSync(lockFile(dir), `${JSON.stringify({ run: `r${Math.random()}`, started: new Date().toISOString(), pid: 1, host: 'kubetrail-7f9c-old-pod' })}\n`);

describe('repository lock', { timeout: 240_000 }, () => {
  it('a dead pod\'s lock (another host) goes stale once its heartbeat is older than the timeout', async () => {
    const dir = gitdir();
    foreignLock(dir);
    const started = performance.now();
    const lock = await lockRepo(dir, { waitMs: 10_000, staleMs: 1500 });
    expect(performance.now() - started).toBeGreaterThanOrEqual(1400);
    expect(JSON.parse(readFileSync(lockFile(dir), 'utf8'))).toMatchObject({ pid: process.pid, host: hostname() });
    await lock.release();
    expect(existsSync(lockFile(dir))).toBe(false);
  });

  it('a live pod\'s lock (another host, heartbeat moving) is never taken', async () => {
    const dir = gitdir();
    foreignLock(dir);
    const beat = setInterval(() => utimesSync(lockFile(dir), new Date(), new Date()), 200);
    try {
      await expect(lockRepo(dir, { waitMs: 3000, staleMs: 1000 })).rejects.toThrow(/locked by another kubetrail run \(pid 1 on kubetrail-7f9c-old-pod/);
    } finally {
      clearInterval(beat);
    }
  });

  it('the holder\'s heartbeat keeps its lock from going stale', async () => {
    const dir = gitdir();
    const held = await lockRepo(dir, { staleMs: 600 });
    await expect(lockRepo(dir, { waitMs: 2500, staleMs: 600 })).rejects.toThrow(/locked by another kubetrail run/);
    await held.assertHeld();
    await held.release();
  });

  it('a holder whose lock was taken over finds out, and its release leaves the new owner\'s lock alone', async () => {
    const dir = gitdir();
    const held = await lockRepo(dir, { staleMs: 60_000 });
    foreignLock(dir); // what a take-over leaves: another run's lock in its place
    const theirs = readFileSync(lockFile(dir), 'utf8');
    await expect(held.assertHeld()).rejects.toThrow(/taken over by pid 1 on kubetrail-7f9c-old-pod/);
    await held.release();
    expect(readFileSync(lockFile(dir), 'utf8')).toBe(theirs);
  });

  it('a killed holder on this host (same PID namespace) is taken over at once', async () => {
    const dir = gitdir();
    expect(await contend(dir, 1, 60_000, { die: true })).toEqual({ turns: 1, collisions: 0 });
    expect(existsSync(lockFile(dir))).toBe(true);
    const started = performance.now();
    const lock = await lockRepo(dir, { waitMs: 0, staleMs: 60_000 });
    expect(performance.now() - started).toBeLessThan(1000);
    await lock.release();
  });

  it('waiters racing one stale lock never own it together: 15 rounds of 4 processes starting the same millisecond', async () => {
    // A lock an older kubetrail left on this host, naming a process that has exited: stale by pid for the old
    // lock, by its heartbeat (none) here. Either way all four waiters find it stale at about the same moment.
    const dead = spawn('true');
    await new Promise((r) => dead.once('exit', r));
    let collisions = 0;
    for (let round = 0; round < 15; round++) {
      const dir = gitdir();
      writeFileSync(lockFile(dir), `${dead.pid} ${hostname()}\n`);
      const startAt = Date.now() + 3000; // after every process has started, even on a loaded machine
      const results = await Promise.all(Array.from({ length: 4 }, () => contend(dir, 1, 300, { startAt })));
      const collided = results.reduce((n, r) => n + r.collisions, 0);
      collisions += collided;
      expect(results.reduce((n, r) => n + r.turns, 0) + collided).toBe(4);
      expect(readdirSync(dir)).toEqual([]); // no lock, guard or temp file left behind
    }
    expect(collisions).toBe(0);
  });

  it('holders that die while holding, and waiters racing their locks, never overlap: 6 processes, 80 turns', async () => {
    const dir = gitdir();
    let collisions = 0;
    let turns = 0;
    // Three keep going; a stream of others each takes the lock once and dies holding it.
    const steady = Promise.all(Array.from({ length: 3 }, () => contend(dir, 20, 400)));
    const dying = (async () => {
      for (let i = 0; i < 20; i++) {
        const results = await Promise.all(Array.from({ length: 3 }, () => contend(dir, 1, 400, { die: true })));
        for (const r of results) {
          collisions += r.collisions;
          turns += r.turns;
        }
      }
    })();
    for (const r of await steady) {
      collisions += r.collisions;
      turns += r.turns;
    }
    await dying;
    expect(collisions).toBe(0);
    expect(turns).toBe(60 + 60);
  });
});

