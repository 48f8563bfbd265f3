// Keeps the working tree and the git index in step with a commit, touching only the paths that changed.
// (isomorphic-git's checkout re-verifies every file of the subtree: seconds for 10k files; this is proportional
// to the change.) The index is git's version 2 format, written to index.lock and renamed, as git does.
import { createHash } from 'node:crypto';
import { closeSync, existsSync, fstatSync, mkdirSync, openSync, readFileSync, writeSync, type BigIntStats } from 'node:fs';
import { rename, rmdir, unlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Repo } from './repo.ts';

export interface WorktreeChange { path: string; oid?: string } // no oid: the file goes

// Entries are kept encoded: a BigIntStats per file would cost ~1 KB each while 50k files are written.
interface IndexEntry { path: string; oid: string; raw: Buffer }

/** Reads a version-2 index into path → entry (raw bytes kept, so untouched entries are written back as they were). */
export function readIndex(file: string): Map<string, IndexEntry> | undefined {
  if (!existsSync(file)) return new Map();
  const buf = readFileSync(file);
  if (buf.toString('latin1', 0, 4) !== 'DIRC' || buf.readUInt32BE(4) !== 2) return undefined; // v3/v4: rebuild instead
  const entries = new Map<string, IndexEntry>();
  let at = 12;
  for (let i = 0, n = buf.readUInt32BE(8); i < n; i++) {
    const flags = buf.readUInt16BE(at + 60);
    if (flags & 0x4000) return undefined; // extended flags only exist in v3
    const end = buf.indexOf(0, at + 62);
    const path = buf.toString('utf8', at + 62, end);
    const size = Math.ceil((end - at + 1) / 8) * 8;
    entries.set(path, { path, oid: buf.toString('hex', at + 40, at + 60), raw: buf.subarray(at, at + size) });
    at += size;
  }
  return entries;
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

function encodeEntry(path: string, oid: string, s: BigIntStats, blocks: EntryBlocks): Buffer {
  const nameLength = Buffer.byteLength(path);
  const out = blocks.take(Math.ceil((62 + nameLength + 1) / 8) * 8);
  const u32 = (v: bigint | number, at: number) => out.writeUInt32BE(Number(BigInt(v) & 0xffffffffn), at);
  u32(s.ctimeNs / 1_000_000_000n, 0);
  u32(s.ctimeNs % 1_000_000_000n, 4);
  u32(s.mtimeNs / 1_000_000_000n, 8);
  u32(s.mtimeNs % 1_000_000_000n, 12);
  u32(s.dev, 16);
  u32(s.ino, 20);
  u32(0o100644, 24);
  u32(s.uid, 28);
  u32(s.gid, 32);
  u32(s.size, 36);
  out.write(oid, 40, 'hex');
  out.writeUInt16BE(Math.min(nameLength, 0xfff), 60);
  out.write(path, 62);
  return out;
}

/** Where an encoded entry's path ends: its length is in the flags, unless it is too long to fit (then the NUL). */
const nameEnd = (raw: Buffer) => {
  const length = raw.readUInt16BE(60) & 0xfff;
  return length < 0xfff ? 62 + length : raw.indexOf(0, 62);
};

/** Writes the index; `inOrder` says the entries already are in git's order (read sorted, none added). */
export async function writeIndex(file: string, entries: Map<string, IndexEntry>, inOrder = false): Promise<void> {
  let raws: Buffer[] = [];
  let size = 12 + 20;
  for (const e of entries.values()) {
    raws.push(e.raw);
    size += e.raw.length;
  }
  // Git sorts by the bytes of the path. (Not buf.compare with ranges: Deno 2 checks the target's end against
  // the source's length.)
  if (!inOrder) {
    const names = raws.map((raw) => raw.subarray(62, nameEnd(raw)));
    const order = [...names.keys()].sort((i, j) => Buffer.compare(names[i], names[j]));
    raws = order.map((i) => raws[i]);
  }
  const out = Buffer.allocUnsafe(size); // one buffer for the whole file: header, entries, checksum
  out.write('DIRC', 0, 'latin1');
  out.writeUInt32BE(2, 4);
  out.writeUInt32BE(raws.length, 8);
  let at = 12;
  for (const raw of raws) at += raw.copy(out, at);
  createHash('sha1').update(out.subarray(0, at)).digest().copy(out, at);
  const lock = `${file}.lock`;
  await writeFile(lock, out);
  await rename(lock, file);
}

/** The changes that take files under `prefix` from what the index records to `target` (crash recovery). */
export function changesFromIndex(repo: Repo, prefix: string, target: Map<string, string>): WorktreeChange[] {
  const index = readIndex(join(repo.gitdir, 'index')) ?? new Map<string, IndexEntry>();
  const changes: WorktreeChange[] = [];
  for (const [path, oid] of target) {
    if (index.get(path)?.oid !== oid || !existsSync(join(repo.dir, path))) changes.push({ path, oid });
  }
  for (const path of index.keys()) if (path.startsWith(`${prefix}/`) && !target.has(path)) changes.push({ path });
  return changes;
}

/** Writes and deletes the changed files, then records them in the index. */
export async function applyToWorktree(repo: Repo, changes: WorktreeChange[]): Promise<void> {
  if (repo.bare || changes.length === 0) return;
  const indexFile = join(repo.gitdir, 'index');
  const index = readIndex(indexFile) ?? new Map();
  const made = new Set<string>();
  const blocks = new EntryBlocks();
  let added = false; // a Map keeps the position of replaced entries; only new paths can break the order
  for (const c of changes) {
    const file = join(repo.dir, c.path);
    if (!c.oid) {
      await unlink(file).catch(() => {});
      index.delete(c.path);
      await removeEmptyDirs(repo.dir, dirname(c.path));
      continue;
    }
    const dir = dirname(file);
    if (!made.has(dir)) {
      mkdirSync(dir, { recursive: true });
      made.add(dir);
    }
    added ||= !index.has(c.path);
    index.set(c.path, { path: c.path, oid: c.oid, raw: encodeEntry(c.path, c.oid, writeWorktreeFile(file, await repo.readBlob(c.oid)), blocks) });
  }
  await writeIndex(indexFile, index, !added);
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
