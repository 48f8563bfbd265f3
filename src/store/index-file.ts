// Pure: the git index file as bytes (Documentation/gitformat-index.txt), versions 2, 3 (extended flags:
// skip-worktree, intent-to-add) and 4 (prefix-compressed paths). A person's git shares the index with kubetrail,
// so every entry kubetrail does not change is written back byte for byte, in the version it was read in.
import { createHash } from 'node:crypto';

/**
 * One entry, kept as a version 2/3 record (62 bytes of stat data, id and flags; 2 more of extended flags when
 * flag 0x4000 is set; the path; NUL padding to 8 bytes), whatever version the file has.
 */
export interface IndexEntry { oid: string; raw: Buffer }

/** Paths as keys: the path's bytes as a latin1 string (so no two names collide and string order is byte order). */
export type IndexEntries = Map<string, IndexEntry>;

export interface IndexFile {
  version: number;
  /** Keyed by `indexKey(path)`; a merge conflict's stages 1-3 by `indexKey(path) + '\0' + stage`. */
  entries: IndexEntries;
  /** Extensions written back as read (whole: signature, size, data). */
  kept: Buffer[];
}

export class IndexFormatError extends Error {}

export const indexKey = (path: string): string => Buffer.from(path).toString('latin1');
export const pathOfKey = (key: string): string => Buffer.from(key, 'latin1').toString('utf8');

/**
 * Extensions that describe the entries by position or cache what the entries imply (cache tree, untracked cache,
 * fsmonitor, offset tables): stale once an entry changes, so dropped; git rebuilds them. Resolve-undo is kept.
 * Unknown optional extensions are dropped, as git itself does; a required one (lower-case signature) is refused.
 */
const KEPT_EXTENSIONS = new Set(['REUC']);
const REQUIRED: Record<string, string> = {
  link: 'a split index (core.splitIndex); run `git update-index --no-split-index`',
  sdir: 'a sparse index (index.sparse); run `git sparse-checkout disable` or `git config index.sparse false`',
};

const EXTENDED = 0x4000;
const fixedLength = (flags: number) => flags & EXTENDED ? 64 : 62;
const padded = (length: number) => Math.ceil((length + 1) / 8) * 8; // at least one NUL, to a multiple of 8

/** Where an entry record's path ends: its length is in the flags, unless too long to fit there (then the NUL). */
function pathRange(raw: Buffer): [number, number] {
  const flags = raw.readUInt16BE(60);
  const start = fixedLength(flags);
  const length = flags & 0xfff;
  return [start, length < 0xfff ? start + length : raw.indexOf(0, start)];
}

/** The mode an entry records, as git writes it in trees ('100644', '120000', '160000'...). */
export const modeOf = (raw: Buffer) => raw.readUInt32BE(24).toString(8);

const stageOf = (raw: Buffer) => (raw.readUInt16BE(60) >> 12) & 3;

function keyOf(raw: Buffer): string {
  const [start, end] = pathRange(raw);
  const stage = stageOf(raw);
  const path = raw.toString('latin1', start, end);
  return stage ? `${path}\0${stage}` : path;
}

/** Parses an index; an empty one when `buf` is undefined (no index yet). */
export function parseIndex(buf: Buffer | undefined, name = 'index'): IndexFile {
  if (!buf) return { version: 2, entries: new Map(), kept: [] };
  if (buf.length < 32 || buf.toString('latin1', 0, 4) !== 'DIRC') throw new IndexFormatError(`${name} is not a git index`);
  const version = buf.readUInt32BE(4);
  if (version < 2 || version > 4) throw new IndexFormatError(`${name} is a version ${version} git index, which kubetrail cannot update`);
  const entries: IndexEntries = new Map();
  let at = 12;
  let previous: Buffer = Buffer.alloc(0); // version 4: the previous path
  for (let i = 0, n = buf.readUInt32BE(8); i < n; i++) {
    const flags = buf.readUInt16BE(at + 60);
    if (flags & EXTENDED && version < 3) throw new IndexFormatError(`${name}: extended flags in a version 2 index`);
    const fixed = fixedLength(flags);
    let raw: Buffer;
    if (version < 4) {
      const end = buf.indexOf(0, at + fixed);
      raw = buf.subarray(at, at + padded(end - at));
      at += raw.length;
    } else {
      let p = at + fixed;
      let c = buf[p++];
      let strip = c & 127;
      while (c & 128) {
        c = buf[p++];
        strip = ((strip + 1) * 128) + (c & 127);
      }
      const end = buf.indexOf(0, p);
      const path = Buffer.concat([previous.subarray(0, previous.length - strip), buf.subarray(p, end)]);
      raw = Buffer.alloc(padded(fixed + path.length));
      buf.copy(raw, 0, at, at + fixed);
      path.copy(raw, fixed);
      previous = path;
      at = end + 1;
    }
    entries.set(keyOf(raw), { oid: raw.toString('hex', 40, 60), raw });
  }
  const kept: Buffer[] = [];
  while (at + 8 <= buf.length - 20) {
    const signature = buf.toString('latin1', at, at + 4);
    const size = 8 + buf.readUInt32BE(at + 4);
    if (signature[0] < 'A' || signature[0] > 'Z') {
      throw new IndexFormatError(`${name} uses ${REQUIRED[signature] ?? `the "${signature}" extension`}, which kubetrail cannot update: ` +
        'change that, or give kubetrail a repository of its own (or a bare one)');
    }
    if (KEPT_EXTENSIONS.has(signature)) kept.push(buf.subarray(at, at + size));
    at += size;
  }
  return { version, entries, kept };
}

/** An entry record (stat data as git records it, stage 0, no extended flags). */
export function encodeEntry(
  path: string | Buffer, oid: string,
  s: { ctimeNs: bigint; mtimeNs: bigint; dev: bigint; ino: bigint; uid: bigint; gid: bigint; size: bigint },
  out: (size: number) => Buffer = Buffer.alloc, mode = 0o100644,
): Buffer {
  const nameLength = typeof path === 'string' ? Buffer.byteLength(path) : path.length;
  const raw = out(padded(62 + nameLength));
  const u32 = (v: bigint | number, at: number) => raw.writeUInt32BE(Number(BigInt(v) & 0xffffffffn), at);
  u32(s.ctimeNs / 1_000_000_000n, 0);
  u32(s.ctimeNs % 1_000_000_000n, 4);
  u32(s.mtimeNs / 1_000_000_000n, 8);
  u32(s.mtimeNs % 1_000_000_000n, 12);
  u32(s.dev, 16);
  u32(s.ino, 20);
  u32(mode, 24);
  u32(s.uid, 28);
  u32(s.gid, 32);
  u32(s.size, 36);
  raw.write(oid, 40, 'hex');
  raw.writeUInt16BE(Math.min(nameLength, 0xfff), 60);
  if (typeof path === 'string') raw.write(path, 62);
  else path.copy(raw, 62);
  return raw;
}

function encodeVarint(value: number): Buffer {
  const bytes = [value & 127];
  while ((value = Math.floor(value / 128)) > 0) bytes.unshift(128 | (--value & 127));
  return Buffer.from(bytes);
}

/**
 * The index file's bytes: the version read (3 when an entry needs extended flags), entries in git's order (by
 * path bytes, then stage; `inOrder` says they already are), the kept extensions, the checksum.
 */
export function encodeIndex(index: IndexFile, inOrder = false): Buffer {
  const keys = [...index.entries.keys()];
  if (!inOrder) keys.sort(); // latin1 keys: string order is byte order, and `\0<stage>` sorts right after the path
  const raws = keys.map((k) => index.entries.get(k)!.raw);
  const extended = raws.some((raw) => raw.readUInt16BE(60) & EXTENDED);
  const version = index.version === 4 ? 4 : extended ? 3 : 2;
  let body: Buffer[] = raws;
  if (version === 4) {
    body = [];
    let previous: Buffer = Buffer.alloc(0);
    for (const raw of raws) {
      const fixed = fixedLength(raw.readUInt16BE(60));
      const [start, end] = pathRange(raw);
      const path = raw.subarray(start, end);
      let common = 0;
      while (common < path.length && common < previous.length && path[common] === previous[common]) common++;
      body.push(raw.subarray(0, fixed), encodeVarint(previous.length - common), path.subarray(common), Buffer.from([0]));
      previous = path;
    }
  }
  const header = Buffer.alloc(12);
  header.write('DIRC', 0, 'latin1');
  header.writeUInt32BE(version, 4);
  header.writeUInt32BE(raws.length, 8);
  const parts = [header, ...body, ...index.kept];
  const length = parts.reduce((n, p) => n + p.length, 0);
  const out = Buffer.concat(parts, length + 20); // one copy of the whole file, checksum included
  createHash('sha1').update(out.subarray(0, length)).digest().copy(out, length);
  return out;
}
