// One writer per repository, across processes, restarted containers and pods sharing a volume: a lease.
// `kubetrail.lock` names its run (a random id) and the holder refreshes the file's mtime every `heartbeatMs`; a
// lock whose mtime has not moved for `staleMs` is taken over, as is one whose holder is provably gone (same host
// and PID namespace, no such process). Changing or removing an existing lock (take-over, release) first needs
// `kubetrail.lock.takeover-<id of that lock>`, created exclusively: of two waiters racing a stale lock only one
// replaces it (by rename, so there is never a moment without a lock), the other then sees a fresh lock.
// proper-lockfile was considered: its mtime lease is the same idea, but its stale take-over removes the lock
// directory and creates it again, so two waiters can both succeed (and a slow one removes the other's fresh lock).
import { createHash, randomBytes } from 'node:crypto';
import { link, open, unlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { atomicWrite } from './atomic-write.ts';
import { currentHolder, describeHolder, holderGone, parseHolder } from './lock-holder.ts';

export interface RepoLock {
  /** Fails when this run no longer holds the lock (another run took it over): call before moving the branch. */
  assertHeld(): Promise<void>;
  release(): Promise<void>;
}

export interface LockOptions {
  /** How long to wait for another run; 0 fails at once. */
  waitMs?: number;
  /** A lock not refreshed for this long is stale (default 30 s). */
  staleMs?: number;
  /** How often the holder refreshes it (default staleMs / 6). */
  heartbeatMs?: number;
}

export const DEFAULT_STALE_MS = 30_000;
// A heartbeat's mtime is set by the holder's clock: a lock older than this beyond staleMs by our clock is stale
// at once (a crash long ago); a younger one must be seen not to move for staleMs (hosts' clocks may differ).
const CLOCK_SKEW_MS = 60_000;

/** Runs of this process holding a lock (a second run in the same process must wait like anyone else). */
const held = new Set<string>();

interface LockFile { id: string; content: string; mtimeMs: number }

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const code = (e: unknown) => (e as NodeJS.ErrnoException).code;

/** Content and mtime of one file, read through one handle (so both are of the same file); undefined when absent. */
async function readLockFile(file: string): Promise<LockFile | undefined> {
  let handle;
  try {
    handle = await open(file, 'r');
    const [stat, content] = await Promise.all([handle.stat(), handle.readFile('utf8')]);
    return { id: createHash('sha256').update(content).digest('hex').slice(0, 20), content, mtimeMs: stat.mtimeMs };
  } catch (e) {
    if (code(e) === 'ENOENT') return undefined;
    throw e;
  } finally {
    await handle?.close();
  }
}

/** Creates `file` with `content` unless it exists: written aside, then hard-linked, so it never exists half-written. */
async function createExclusive(file: string, content: string, tmp: string): Promise<boolean> {
  await writeFile(tmp, content);
  try {
    await link(tmp, file);
    return true;
  } catch (e) {
    if (code(e) === 'EEXIST') return false;
    if (!['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS'].includes(code(e) ?? '')) throw e;
    // A file system without hard links: exclusive create (a reader may see it empty for a moment, never stale).
    try {
      await writeFile(file, content, { flag: 'wx' });
      return true;
    } catch (e2) {
      if (code(e2) === 'EEXIST') return false;
      throw e2;
    }
  } finally {
    await unlink(tmp).catch(() => {});
  }
}

/** When each lock file was last seen to change, by this process's monotonic clock. */
class Observations {
  private readonly seen = new Map<string, { id: string; mtimeMs: number; since: number }>();
  private readonly staleMs: number;
  constructor(staleMs: number) {
    this.staleMs = staleMs;
  }

  stale(file: string, f: LockFile): boolean {
    const last = this.seen.get(file);
    const now = performance.now();
    if (!last || last.id !== f.id || last.mtimeMs !== f.mtimeMs) this.seen.set(file, { id: f.id, mtimeMs: f.mtimeMs, since: now });
    const unchanged = now - (this.seen.get(file)!.since);
    return unchanged >= this.staleMs || Date.now() - f.mtimeMs >= this.staleMs + CLOCK_SKEW_MS;
  }
}

/**
 * Replaces `file`, seen as `stale`, with `content`; false when someone else got there first (or it changed).
 * The guard `<file>.takeover-<id>` makes this exclusive among waiters; a guard left by a waiter killed inside this
 * step is itself taken over the same way once stale, so nothing wedges.
 */
async function takeOver(file: string, stale: LockFile, content: string, run: string, seen: Observations): Promise<boolean> {
  const guard = `${file}.takeover-${stale.id}`;
  const mine = JSON.stringify({ run, pid: process.pid, purpose: `take over ${file}` });
  if (!await createExclusive(guard, mine, `${guard}.${run}.tmp`)) {
    const other = await readLockFile(guard);
    if (!other || !seen.stale(guard, other) || !await takeOver(guard, other, mine, run, seen)) return false;
  }
  try {
    const now = await readLockFile(file);
    if (now?.id !== stale.id || now.mtimeMs !== stale.mtimeMs) return false; // released, or its holder is back
    await atomicWrite(file, content); // by rename: never a moment without a lock
    return true;
  } finally {
    await unlink(guard).catch(() => {});
  }
}

/** Removes `file` only while it is still `id`, under the same guard a take-over needs. */
async function removeIfStill(file: string, id: string, run: string): Promise<void> {
  const guard = `${file}.takeover-${id}`;
  if (!await createExclusive(guard, JSON.stringify({ run, purpose: `release ${file}` }), `${guard}.${run}.tmp`)) return;
  try {
    if ((await readLockFile(file))?.id === id) await unlink(file);
  } finally {
    await unlink(guard).catch(() => {});
  }
}

/** Takes the repository's lock, waiting up to `waitMs` for another run, then fails naming the holder. */
export async function lockRepo(gitdir: string, o: LockOptions = {}): Promise<RepoLock> {
  const file = join(gitdir, 'kubetrail.lock');
  const staleMs = o.staleMs ?? DEFAULT_STALE_MS;
  const heartbeatMs = o.heartbeatMs ?? staleMs / 6;
  const run = randomBytes(12).toString('hex');
  const content = `${JSON.stringify(currentHolder(run))}\n`;
  const id = createHash('sha256').update(content).digest('hex').slice(0, 20);
  const deadline = Date.now() + (o.waitMs ?? 0);
  const seen = new Observations(staleMs);
  held.add(run);
  try {
    for (let pause = 20; ; pause = Math.min(pause * 2, 250)) {
      if (await createExclusive(file, content, `${file}.${run}.tmp`)) break;
      const current = await readLockFile(file);
      if (!current) continue; // released meanwhile
      const gone = holderGone(parseHolder(current.content), held) || seen.stale(file, current);
      if (gone && await takeOver(file, current, content, run, seen)) break;
      if (Date.now() >= deadline) {
        throw new Error(`repository ${gitdir} is locked by another kubetrail run (${describeHolder(parseHolder(current.content))}); ` +
          `a lock not refreshed for ${staleMs / 1000} s is taken over (wait longer with --lock-wait), or remove ${file} if no run is active`);
      }
      await sleep(pause);
    }
  } catch (e) {
    held.delete(run);
    throw e;
  }
  return heldLock(file, id, run, heartbeatMs);
}

function heldLock(file: string, id: string, run: string, heartbeatMs: number): RepoLock {
  let lost: string | undefined;
  const check = async (): Promise<void> => {
    if (lost) return;
    let now;
    try {
      now = await readLockFile(file);
    } catch {
      return; // unreadable for a moment (a network file system): the next beat tries again
    }
    if (now?.id === id) {
      const t = new Date();
      await utimes(file, t, t).catch(() => {});
    } else {
      lost = now ? `taken over by ${describeHolder(parseHolder(now.content))}` : 'removed';
    }
  };
  let beating = Promise.resolve();
  const timer = setInterval(() => {
    beating = beating.then(check);
  }, heartbeatMs);
  (timer as { unref?: () => void }).unref?.();
  return {
    async assertHeld() {
      await (beating = beating.then(check));
      if (lost) throw new Error(`the repository lock ${file} was ${lost} (this run's heartbeat stalled); nothing more is written`);
    },
    async release() {
      clearInterval(timer);
      await beating;
      held.delete(run);
      if (!lost) await removeIfStill(file, id, run);
    },
  };
}
