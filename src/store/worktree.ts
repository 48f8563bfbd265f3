// Keeps the working tree and the git index in step with a commit, touching only the paths that changed.
// (isomorphic-git's checkout re-verifies every file of the subtree: seconds for 10k files; this is proportional
// to the change.) The index is locked before it is read, as git does, so a person's `git add` meanwhile is
// never lost: git's index.lock is waited for, never overwritten (atomic-write.ts).
import { closeSync, existsSync, fstatSync, mkdirSync, openSync, readFileSync, writeSync, type BigIntStats } from 'node:fs';
import { rmdir, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { updateLocked } from './atomic-write.ts';
import { failpoint } from './failpoint.ts';
import { encodeEntry, encodeIndex, indexKey, parseIndex, pathOfKey, type IndexEntries, type IndexFile } from './index-file.ts';

export interface WorktreeChange { path: string; oid?: string } // no oid: the file goes

/** What a checkout needs of a repository. */
export interface CheckoutTarget {
  readonly dir: string;
  readonly gitdir: string;
  readonly bare: boolean;
  readBlob(oid: string): Promise<Uint8Array>;
}

/** Reads the index (empty when there is none); throws IndexFormatError for one kubetrail must not rewrite. */
export function readIndex(file: string): IndexFile {
  return parseIndex(existsSync(file) ? readFileSync(file) : undefined, file);
}

/** Throws (IndexFormatError) when the index is one kubetrail must not rewrite: checked before the branch moves. */
export function checkIndexWritable(repo: CheckoutTarget): void {
  if (!repo.bare) readIndex(join(repo.gitdir, 'index'));
}

/**
 * Index entries are small and all kept until the index is written, while the blobs read for the files come and
 * go: entries get 1 MiB blocks of their own, not an allocation each among the blobs' (the pool of small
 * Buffers is no better: an entry kept pins a slab that blobs filled, 162 MB for 51k entries, measured).
 */
class EntryBlocks {
  private block = Buffer.alloc(0);
  private used = 0;

  /** `size` zeroed bytes. */
  take(size: number): Buffer {
    if (this.used + size > this.block.length) {
      this.block = Buffer.alloc(Math.max(1 << 20, size));
      this.used = 0;
    }
    this.used += size;
    return this.block.subarray(this.used - size, this.used);
  }
}

/** The changes that take files under `prefix` from what the index records to `target` (crash recovery). */
export function changesFromIndex(dir: string, index: IndexEntries, prefix: string, target: Map<string, string>): WorktreeChange[] {
  const changes: WorktreeChange[] = [];
  for (const [path, oid] of target) {
    if (index.get(indexKey(path))?.oid !== oid || !existsSync(join(dir, path))) changes.push({ path, oid });
  }
  const under = indexKey(`${prefix}/`);
  for (const key of index.keys()) {
    const path = pathOfKey(key.split('\0')[0]);
    if (key.startsWith(under) && !target.has(path)) changes.push({ path });
  }
  return changes;
}

/**
 * Writes and deletes the changed files, then records them in the index. `changes` may be computed from the
 * index as it is once locked (crash recovery compares with it).
 */
export async function applyToWorktree(
  repo: CheckoutTarget, changes: WorktreeChange[] | ((index: IndexEntries) => WorktreeChange[]),
): Promise<void> {
  if (repo.bare || (Array.isArray(changes) && changes.length === 0)) return;
  await withIndexLocked(repo, (held) => applyChanges(repo, held, typeof changes === 'function' ? changes(held.index.entries) : changes));
}

/** The index, read once its lock is held; written back when `changed` (else the lock is just released). */
export interface HeldIndex { index: IndexFile; changed: boolean; inOrder: boolean }

/**
 * Holds index.lock while `fn` runs (git's index.lock is waited for, never taken), as git does across a commit or a
 * checkout: a person's `git commit` meanwhile cannot pair the new HEAD with an index that does not match it yet.
 */
export async function withIndexLocked<T>(repo: CheckoutTarget, fn: (held: HeldIndex) => Promise<T>): Promise<T> {
  const indexFile = join(repo.gitdir, 'index');
  let result: T | undefined;
  await updateLocked(indexFile, async () => {
    const held: HeldIndex = { index: readIndex(indexFile), changed: false, inOrder: true };
    result = await fn(held);
    return held.changed ? encodeIndex(held.index, held.inOrder) : undefined;
  });
  return result as T;
}

/** Writes and deletes the changed files and records them in the held index. */
export async function applyChanges(repo: CheckoutTarget, held: HeldIndex, changes: WorktreeChange[]): Promise<void> {
  if (repo.bare || changes.length === 0) return;
  const index = held.index;
  const made = new Set<string>();
  const blocks = new EntryBlocks();
  held.changed = true;
  for (const c of changes) {
    const file = join(repo.dir, c.path);
    const key = indexKey(c.path);
    for (const stage of [1, 2, 3]) index.entries.delete(`${key}\0${stage}`); // recorded content resolves a conflict
    if (!c.oid) {
      await unlink(file).catch(() => {});
      index.entries.delete(key);
      await removeEmptyDirs(repo.dir, dirname(c.path));
      continue;
    }
    const dir = dirname(file);
    if (!made.has(dir)) {
      mkdirSync(dir, { recursive: true });
      made.add(dir);
    }
    // A Map keeps the position of replaced entries; only new keys can break the order.
    if (!index.entries.has(key)) held.inOrder = false;
    const stat = writeWorktreeFile(file, await repo.readBlob(c.oid));
    index.entries.set(key, { oid: c.oid, raw: encodeEntry(c.path, c.oid, stat, (n) => blocks.take(n)) });
  }
  failpoint('worktree-written');
}

/** Writes a file and returns its stat for the index (sync calls: see ObjectWriter.write). */
function writeWorktreeFile(file: string, data: Uint8Array): BigIntStats {
  const fd = openSync(file, 'w');
  try {
    writeSync(fd, data);
    return fstatSync(fd, { bigint: true });
  } finally {
    closeSync(fd);
  }
}

async function removeEmptyDirs(root: string, dir: string): Promise<void> {
  for (let d = dir; d && d !== '.'; d = dirname(d)) {
    try {
      await rmdir(join(root, d));
    } catch {
      return; // not empty (or gone): stop climbing
    }
  }
}
