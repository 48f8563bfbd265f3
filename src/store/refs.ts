// Refs with their locks: read as git reads them (loose, else packed-refs); written and deleted only under git's
// `<ref>.lock` through atomic-write.ts (exclusive lock, fsync, rename, fsync the directory), so a kill leaves the
// old value or the new one, and the git CLI and kubetrail never lose each other's update.
import fs from 'node:fs';
import { mkdir, readFile, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import git from 'isomorphic-git';
import { atomicWrite, DEFAULT_WAIT_MS, fsyncDir, HeldLock, updateLocked } from './atomic-write.ts';
import { failpoint } from './failpoint.ts';

/** The ref is not where the caller saw it: someone else (another cluster's sync, a person's `git commit`) moved it. */
export class BranchMovedError extends Error {}

/** The commit a ref names, or undefined when there is no such ref. */
export function readRef(gitdir: string, ref: string): Promise<string | undefined> {
  return git.resolveRef({ fs, gitdir, ref }).catch(() => undefined);
}

/** Makes the ref's directory, durably (a new directory's name lives in its parent). */
async function ensureRefDir(refFile: string): Promise<void> {
  const dir = dirname(refFile);
  if (fs.existsSync(dir)) return;
  const first = await mkdir(dir, { recursive: true });
  for (let d = dir; first; d = dirname(d)) {
    fsyncDir(dirname(d));
    if (d === first) break;
  }
}

/** Points `ref` at `oid`, whatever it was. */
export async function writeRef(gitdir: string, ref: string, oid: string): Promise<void> {
  const file = join(gitdir, ref);
  await ensureRefDir(file);
  await atomicWrite(file, `${oid}\n`);
}

/**
 * Moves `ref` from `expected` to `next` (compare and swap under the ref's lock; a git process holding it is
 * waited for). Throws BranchMovedError when it moved meanwhile, so no one else's commit is ever dropped.
 */
export async function swapRef(gitdir: string, ref: string, expected: string | undefined, next: string): Promise<void> {
  const file = join(gitdir, ref);
  await ensureRefDir(file);
  await updateLocked(file, async () => {
    const current = await readRef(gitdir, ref);
    if (current !== expected) {
      const name = ref.startsWith('refs/heads/') ? `branch ${ref.slice('refs/heads/'.length)}` : ref;
      throw new BranchMovedError(`${name} moved from ${expected ?? 'nothing'} to ${current}; not overwriting`);
    }
    failpoint('ref-locked');
    return `${next}\n`;
  });
}

/** Removes `ref` as git does: under its lock, from packed-refs first (`git gc` packs refs), then the loose file. */
export async function deleteRef(gitdir: string, ref: string): Promise<void> {
  const file = join(gitdir, ref);
  if (!fs.existsSync(dirname(file))) await ensureRefDir(file);
  const lock = await HeldLock.acquire(file, DEFAULT_WAIT_MS);
  try {
    const packed = join(gitdir, 'packed-refs');
    await updateLocked(packed, async () => {
      const lines = (await readFile(packed, 'utf8').catch(() => '')).split('\n');
      const at = lines.findIndex((l) => l.endsWith(` ${ref}`) && !l.startsWith('#'));
      if (at < 0) return undefined;
      lines.splice(at, lines[at + 1]?.startsWith('^') ? 2 : 1); // and its peeled line
      return lines.join('\n');
    });
    const removed = await unlink(file).then(() => true, (e) => {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw e;
    });
    if (removed) fsyncDir(dirname(file));
  } finally {
    lock.rollback();
  }
}
