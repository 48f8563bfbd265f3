// Keeps the working tree and the git index in step with a commit, touching only the paths that changed.
// (isomorphic-git's checkout re-verifies every file of the subtree: seconds for 10k files; this is proportional
// to the change.) The index is locked before it is read, as git does, so a person's `git add` meanwhile is
// never lost: git's index.lock is waited for, never overwritten (atomic-write.ts).
import { chmodSync, closeSync, existsSync, fstatSync, lstatSync, mkdirSync, openSync, readFileSync, rmSync, symlinkSync, writeSync, type BigIntStats } from 'node:fs';
import { rmdir, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { updateLocked } from './atomic-write.ts';
import { failpoint } from './failpoint.ts';
import { encodeEntry, encodeIndex, indexKey, modeOf, parseIndex, pathOfKey, type IndexEntries, type IndexFile } from './index-file.ts';

/** No oid: the path goes. `mode` as in a tree (default 100644; 100755, 120000 symlink, 160000 submodule). */
export interface WorktreeChange {
  path: string; oid?: string; mode?: string;
  /** `path` holds the name's bytes as latin1 (a name that is not UTF-8, from a person's tree). */
  raw?: boolean;
}

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
    const file = c.raw ? fsPath(repo.dir, c.path) : join(repo.dir, c.path);
    const key = c.raw ? c.path : indexKey(c.path);
    for (const stage of [1, 2, 3]) index.entries.delete(`${key}\0${stage}`); // recorded content resolves a conflict
    if (!c.oid) {
      await unlink(file).catch(() => rmdir(file).catch(() => {})); // a submodule's directory goes when empty
      index.entries.delete(key);
      if (!c.raw) await removeEmptyDirs(repo.dir, dirname(c.path));
      continue;
    }
    const dir = typeof file === 'string' ? dirname(file) : parentOf(file).toString('latin1');
    if (!made.has(dir)) {
      mkdirSync(typeof file === 'string' ? dir : parentOf(file), { recursive: true });
      made.add(dir);
    }
    // A Map keeps the position of replaced entries; only new keys can break the order.
    if (!index.entries.has(key)) held.inOrder = false;
    const mode = c.mode ?? '100644';
    const stat = typeof file !== 'string' && !BUFFER_PATHS ? NO_FILE // recorded, not written: see fsPath
      : mode === '100644' ? writeWorktreeFile(file, await repo.readBlob(c.oid)) : await writeSpecial(file, mode, c.oid, repo);
    const name = c.raw ? Buffer.from(c.path, 'latin1') : c.path;
    index.entries.set(key, { oid: c.oid, raw: encodeEntry(name, c.oid, stat, (n) => blocks.take(n), parseInt(mode, 8)) });
  }
  failpoint('worktree-written');
}

/** An executable, a symlink or a submodule (its directory, left empty as git leaves one not initialised). */
async function writeSpecial(file: string | Buffer, mode: string, oid: string, repo: CheckoutTarget): Promise<BigIntStats> {
  if (mode === '160000') {
    mkdirSync(file, { recursive: true });
    return lstatSync(file, { bigint: true });
  }
  const data = await repo.readBlob(oid);
  rmSync(file, { force: true });
  if (mode === '120000') {
    symlinkSync(Buffer.from(data), file);
    return lstatSync(file, { bigint: true });
  }
  writeWorktreeFile(file, data);
  chmodSync(file, 0o755);
  return lstatSync(file, { bigint: true });
}

/**
 * The changes that bring paths outside kubetrail's own `owned/` to `target` (path → mode and id), for a
 * killed run's pending checkout of content fetched from the remote. Index entries that are not in `target`
 * are left: they may be a person's `git add` of a new file.
 */
export function changesOutside(dir: string, index: IndexEntries, owned: string, target: Map<string, { oid: string; mode: string }>): WorktreeChange[] {
  const changes: WorktreeChange[] = [];
  for (const [path, e] of target) { // paths as latin1 bytes (see Repo.entriesOutside)
    if (path.startsWith(`${owned}/`)) continue;
    const entry = index.get(path);
    const file = fsPath(dir, path);
    if (entry?.oid !== e.oid || modeOf(entry.raw) !== e.mode || !existsSync(file)) changes.push({ path, ...e, raw: true });
  }
  return changes;
}

const parentOf = (file: Buffer) => file.subarray(0, file.lastIndexOf(47));

/** Deno 2's node:fs decodes a Buffer path as UTF-8: a name that is not would be written under another name. */
const BUFFER_PATHS = !('Deno' in globalThis);
/** Stat data of a file not written: git sees it as missing from the working tree. */
const NO_FILE = { ctimeNs: 0n, mtimeNs: 0n, dev: 0n, ino: 0n, uid: 0n, gid: 0n, size: 0n } as BigIntStats;

/**
 * A file name from its bytes (as latin1): a string when they are UTF-8, else the bytes themselves (Node takes
 * Buffer paths; under Deno 2 such a name is recorded in the index but not written).
 */
function fsPath(dir: string, latin1: string): string | Buffer {
  const bytes = Buffer.from(latin1, 'latin1');
  const utf8 = bytes.toString('utf8');
  return Buffer.from(utf8).equals(bytes) ? join(dir, utf8) : Buffer.concat([Buffer.from(`${dir}/`), bytes]);
}

/** Writes a file and returns its stat for the index (sync calls: see ObjectWriter.write). */
function writeWorktreeFile(file: string | Buffer, data: Uint8Array): BigIntStats {
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
