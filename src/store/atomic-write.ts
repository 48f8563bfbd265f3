// Replacing a file the way git's lockfile.c does, so kubetrail and the git CLI can share a repository: take
// `<file>.lock` exclusively (never overwrite another process's lock: wait a little, then fail naming it), write,
// fsync, rename over the file, fsync the directory. A kill at any step leaves the old file or the new one.
//
// A lock left by a killed kubetrail run must not wedge every later run, yet a lock of git's must never be taken.
// So the lock is made as a hard link of a private temp file `.<name>.kubetrail-<nonce>`: a `.lock` that shares its
// inode with such a file is ours, from a run that died (the repository lock keeps live kubetrail writers out).
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, linkSync, openSync, readdirSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

export class FileLockedError extends Error {}

/** fsync a file's data (and size) by path. */
export function fsyncFile(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Creates `file` (it must not exist), writes all of `data` and fsyncs it before returning. */
export function writeDurably(file: string, data: Uint8Array): void {
  const fd = openSync(file, 'wx');
  try {
    for (let done = 0; done < data.length;) done += writeSync(fd, data, done);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Makes renames and new names in `dir` durable. Where a platform cannot sync directories, git ignores it too. */
export function fsyncDir(dir: string): void {
  let fd: number;
  try {
    fd = openSync(dir, 'r');
  } catch (e) {
    if (['EISDIR', 'EPERM', 'EACCES'].includes((e as NodeJS.ErrnoException).code ?? '')) return;
    throw e;
  }
  try {
    fsyncSync(fd);
  } catch (e) {
    if (!['EINVAL', 'EBADF', 'EPERM', 'EISDIR'].includes((e as NodeJS.ErrnoException).code ?? '')) throw e;
  } finally {
    closeSync(fd);
  }
}

const held = new Set<string>(); // temp files of this process's locks: never stale
const tempPrefix = (file: string) => `.${basename(file)}.kubetrail-`;
const errno = (e: unknown) => (e as NodeJS.ErrnoException).code;

/** A `<file>.lock` this process holds: write the new content, then `commit` (rename over `file`) or `rollback`. */
export class HeldLock {
  readonly file: string;
  readonly lockFile: string;
  private readonly temp: string | undefined;
  private readonly fd: number;
  private at = 0;

  private constructor(file: string, temp: string | undefined, fd: number) {
    this.file = file;
    this.lockFile = `${file}.lock`;
    this.temp = temp;
    this.fd = fd;
  }

  /** One attempt to take the lock; undefined when someone else holds it. */
  static tryAcquire(file: string): HeldLock | undefined {
    const lockFile = `${file}.lock`;
    const temp = join(dirname(file), `${tempPrefix(file)}${process.pid}-${randomBytes(6).toString('hex')}`);
    const fd = openSync(temp, 'wx');
    held.add(temp);
    for (let tries = 0; tries < 2; tries++) {
      try {
        linkSync(temp, lockFile);
        removeStaleLock(file); // now only sweeps temp files of runs killed before they took the lock
        return new HeldLock(file, temp, fd);
      } catch (e) {
        if (errno(e) === 'EEXIST') {
          if (removeStaleLock(file)) continue;
          release(temp, fd);
          return undefined;
        }
        release(temp, fd);
        if (['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EMLINK'].includes(errno(e) ?? '')) return HeldLock.tryExclusive(file);
        throw e;
      }
    }
    release(temp, fd);
    return undefined;
  }

  /** Without hard links (some network file systems): an exclusively created lock file, as git makes it. */
  private static tryExclusive(file: string): HeldLock | undefined {
    try {
      return new HeldLock(file, undefined, openSync(`${file}.lock`, 'wx'));
    } catch (e) {
      if (errno(e) === 'EEXIST') return undefined;
      throw e;
    }
  }

  /** Waits up to `waitMs` for the lock, then fails naming the lock file (the way git says it). */
  static async acquire(file: string, waitMs: number): Promise<HeldLock> {
    const deadline = Date.now() + waitMs;
    for (;;) {
      const lock = HeldLock.tryAcquire(file);
      if (lock) return lock;
      if (Date.now() >= deadline) {
        throw new FileLockedError(`cannot lock ${file}: ${file}.lock exists (waited ${Math.round(waitMs / 100) / 10}s). ` +
          'Another git process seems to be running in this repository; if none is, remove the .lock file and retry');
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  write(data: Uint8Array | string): void {
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    for (let done = 0; done < bytes.length;) done += writeSync(this.fd, bytes, done, bytes.length - done, this.at + done);
    this.at += bytes.length;
  }

  /** Data durable, then renamed over the file, then the rename durable. */
  commit(): void {
    fsyncSync(this.fd);
    closeSync(this.fd);
    renameSync(this.lockFile, this.file);
    if (this.temp) {
      unlinkSync(this.temp);
      held.delete(this.temp);
    }
    fsyncDir(dirname(this.file));
  }

  rollback(): void {
    if (this.temp) {
      // Only our own lock goes: its inode is the temp file's.
      const ours = sameFile(this.temp, this.lockFile);
      release(this.temp, this.fd);
      if (ours) unlinkSync(this.lockFile);
    } else {
      closeSync(this.fd);
      unlinkSync(this.lockFile);
    }
  }
}

function release(temp: string, fd: number): void {
  closeSync(fd);
  unlinkSync(temp);
  held.delete(temp);
}

function sameFile(a: string, b: string): boolean {
  try {
    const [x, y] = [statSync(a), statSync(b)];
    return x.ino === y.ino && x.dev === y.dev;
  } catch {
    return false;
  }
}

/**
 * Removes what killed kubetrail runs left next to `file`: their temp files, and the `.lock` when it is one of
 * them. True when a stale lock was removed. Another process's lock (git's) is never touched.
 */
function removeStaleLock(file: string): boolean {
  const dir = dirname(file);
  const prefix = tempPrefix(file);
  let lockStat;
  try {
    lockStat = statSync(`${file}.lock`);
  } catch {
    return true; // released meanwhile: try again
  }
  let removed = false;
  for (const name of readdirSync(dir)) {
    const temp = join(dir, name);
    if (!name.startsWith(prefix) || held.has(temp)) continue;
    try {
      const s = statSync(temp);
      if (s.ino === lockStat.ino && s.dev === lockStat.dev) {
        unlinkSync(`${file}.lock`);
        removed = true;
      }
      unlinkSync(temp);
    } catch { /* gone meanwhile */ }
  }
  return removed;
}

/**
 * Replaces `file` with what `next` returns, computed while the lock is held (so it may read the current content
 * without another writer slipping in between); nothing is written when `next` returns undefined or throws.
 */
export async function updateLocked<T extends Uint8Array | string>(
  file: string, next: () => T | undefined | Promise<T | undefined>, o: { waitMs?: number } = {},
): Promise<void> {
  const lock = await HeldLock.acquire(file, o.waitMs ?? DEFAULT_WAIT_MS);
  try {
    const data = await next();
    if (data === undefined) {
      lock.rollback();
      return;
    }
    lock.write(data);
  } catch (e) {
    lock.rollback();
    throw e;
  }
  lock.commit();
}

/** Git itself does not wait for index.lock and waits 100 ms for a ref; a sync can afford a few seconds. */
export const DEFAULT_WAIT_MS = 5000;

/** Writes `file` atomically and durably through `<file>.lock` (see the top of this module). */
export function atomicWrite(file: string, data: Uint8Array | string, o: { waitMs?: number } = {}): Promise<void> {
  return updateLocked(file, () => data, o);
}

