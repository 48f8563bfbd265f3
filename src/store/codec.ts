// Pure: git object bytes. Ids, zlib, and the encoding and parsing of trees and commits; no file I/O here.
import { createHash } from 'node:crypto';
import { constants as zlibConstants, deflateSync, inflateSync } from 'node:zlib';

export type ObjectType = 'blob' | 'tree' | 'commit';

/**
 * A tree entry. `mode` as git writes it ('100644', '100755', '120000', '160000'; a subtree as '40000' or
 * '040000'); `name` as a Buffer keeps bytes that are not UTF-8 exactly as they were.
 */
export interface TreeEntry { mode: string; name: string | Buffer; oid: string }

const isTreeMode = (mode: string) => mode === '40000' || mode === '040000';

/**
 * zlib at level 1: git reads any level, and speed matters more here than a few percent of size. The output
 * buffer is sized to the input, not node's default 16 KiB per call, whose slices would each pin 16 KiB.
 * The window and hash are sized to the input too (git inflates any window size): zlib's defaults allocate
 * ~260 KiB per stream, which glibc hands back to the system after each object and faults in again.
 */
export function deflate(data: Uint8Array): Buffer {
  const windowBits = Math.max(9, Math.min(15, Math.ceil(Math.log2(data.length + 1))));
  // Room for the whole output (zlib's bound, about the input) in one buffer: no 16 KiB pieces to concatenate.
  return deflateSync(data, { level: 1, windowBits, memLevel: windowBits - 7, chunkSize: Math.max(64, data.length + (data.length >> 11) + 64) });
}

/** What a pack may hold besides kubetrail's own types: annotated tags (a git CLI neighbour's). */
export type StoredType = ObjectType | 'tag';

const PACK_TYPE_CODE: Record<StoredType, number> = { commit: 1, tree: 2, blob: 3, tag: 4 };

/** A pack entry's type-and-size header: 3 type bits and 4 size bits, then 7 size bits a byte while the top bit is set. */
export function packEntryHeader(type: StoredType, size: number): Buffer {
  const bytes = [(PACK_TYPE_CODE[type] << 4) | (size & 0x0f)];
  for (let rest = Math.floor(size / 16); rest > 0; rest = Math.floor(rest / 128)) {
    bytes[bytes.length - 1] |= 0x80;
    bytes.push(rest & 0x7f);
  }
  return Buffer.from(bytes);
}

const objectHeader = (type: StoredType, size: number) => `${type} ${size}\0`;

/** A git object's id: the SHA-1 of its header and content (hashed in two parts: no copy of the content). */
export function objectId(type: StoredType, content: Uint8Array): string {
  return createHash('sha1').update(objectHeader(type, content.length)).update(content).digest('hex');
}

/** Git orders tree entries by name bytes, comparing a subtree's name as if it ended in `/`. */
export function encodeTree(entries: TreeEntry[]): Buffer {
  const sorted = entries.map((e) => {
    const name = typeof e.name === 'string' ? Buffer.from(e.name) : e.name;
    return { ...e, name, key: isTreeMode(e.mode) ? Buffer.concat([name, Buffer.from('/')]) : name };
  }).sort((a, b) => Buffer.compare(a.key, b.key));
  return Buffer.concat(sorted.flatMap((e) => [
    Buffer.from(`${isTreeMode(e.mode) ? '40000' : e.mode} `, 'latin1'), e.name, Buffer.from([0]), Buffer.from(e.oid, 'hex'),
  ]));
}

/** A tree's entries with their mode and name bytes exactly as stored: re-encoding them gives the same tree. */
export function parseTreeRaw(content: Buffer): TreeEntry[] {
  const entries: TreeEntry[] = [];
  for (let at = 0; at < content.length;) {
    const space = content.indexOf(32, at);
    const nul = content.indexOf(0, space);
    entries.push({ mode: content.toString('latin1', at, space), name: Buffer.from(content.subarray(space + 1, nul)), oid: content.toString('hex', nul + 1, nul + 21) });
    at = nul + 21;
  }
  return entries;
}

/** Parses a tree object's content, as isomorphic-git's readTree reports it. */
export function parseTree(content: Buffer): { mode: string; path: string; oid: string; type: string }[] {
  const entries = [];
  for (let at = 0; at < content.length;) {
    const space = content.indexOf(32, at);
    const nul = content.indexOf(0, space);
    const mode = content.toString('latin1', at, space);
    entries.push({
      mode: mode === '40000' ? '040000' : mode,
      path: content.toString('utf8', space + 1, nul),
      oid: content.toString('hex', nul + 1, nul + 21),
      type: mode === '40000' ? 'tree' : mode === '160000' ? 'commit' : 'blob',
    });
    at = nul + 21;
  }
  return entries;
}

export interface Signature { name: string; email: string; timestamp: number; timezoneOffset?: number }

function formatSignature(s: Signature): string {
  const offset = -(s.timezoneOffset ?? 0); // minutes east of UTC
  const sign = offset < 0 ? '-' : '+';
  const abs = Math.abs(offset);
  const tz = `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}${String(abs % 60).padStart(2, '0')}`;
  return `${s.name} <${s.email}> ${s.timestamp} ${tz}`;
}

export function encodeCommit(c: { tree: string; parents: string[]; author: Signature; committer: Signature; message: string }): Buffer {
  const lines = [`tree ${c.tree}`, ...c.parents.map((p) => `parent ${p}`),
    `author ${formatSignature(c.author)}`, `committer ${formatSignature(c.committer)}`, '', c.message];
  return Buffer.from(lines.join('\n'));
}

export interface ParsedCommit {
  tree: string;
  parents: string[];
  author: { name: string; email: string; timestamp: number; timezoneOffset: number };
  /** Who made the commit and when (for a replayed commit: when it was re-made on the remote head). */
  committer: { name: string; email: string; timestamp: number; timezoneOffset: number };
  message: string;
}

/**
 * Reads a commit as isomorphic-git's readCommit does (the parts kubetrail uses): `tree` first and the `parent`
 * lines right after it, by position as git reads them; the first `author`; the message with carriage returns
 * and leading newlines dropped and exactly one newline at the end.
 */
export function parseCommit(content: Buffer): ParsedCommit {
  const text = content.toString('utf8');
  const blank = text.indexOf('\n\n');
  const headers: string[] = [];
  for (const line of text.slice(0, blank).split('\n')) {
    if (line.startsWith(' ') && headers.length) headers[headers.length - 1] += `\n${line.slice(1)}`; // continued (gpgsig)
    else headers.push(line);
  }
  const key = (h: string) => h.slice(0, h.indexOf(' '));
  const value = (h: string) => h.slice(h.indexOf(' ') + 1);
  if (key(headers[0] ?? '') !== 'tree') throw new Error('commit: tree is not the first header');
  const parents: string[] = [];
  for (let i = 1; i < headers.length && key(headers[i]) === 'parent'; i++) parents.push(value(headers[i]));
  const author = parseSignature(headers.find((h) => key(h) === 'author'), 'author');
  const committer = parseSignature(headers.find((h) => key(h) === 'committer'), 'committer');
  const message = text.slice(blank + 2).replace(/\r/g, '').replace(/^\n+/, '').replace(/\n+$/, '') + '\n';
  return { tree: value(headers[0]), parents, author, committer, message };
}

function parseSignature(header: string | undefined, what: string): ParsedCommit['author'] {
  const [, name, email, timestamp, zone] = (header ?? '').slice(what.length + 1).match(/^(.*) <(.*)> (.*) (.*)$/) ?? [];
  if (name === undefined) throw new Error(`commit: no ${what}`);
  const [, sign, hours, minutes] = zone.match(/(\+|-)(\d\d)(\d\d)/) ?? ['', '+', '0', '0'];
  const east = (sign === '+' ? 1 : -1) * (Number(hours) * 60 + Number(minutes));
  return { name, email, timestamp: Number(timestamp), timezoneOffset: east === 0 ? 0 : -east };
}

/** A loose object file's bytes: header and content, deflated. */
export function encodeLooseObject(type: ObjectType, content: Uint8Array): Buffer {
  return deflate(Buffer.concat([Buffer.from(objectHeader(type, content.length)), content]));
}

/** The inflated size of a loose object file (header included) from its first bytes; undefined when they do not say. */
function looseObjectSize(deflated: Uint8Array): number | undefined {
  try {
    const head = inflateSync(deflated.subarray(0, 256), { finishFlush: zlibConstants.Z_SYNC_FLUSH, chunkSize: 1024 });
    const nul = head.indexOf(0);
    const size = nul > 0 ? Number(head.toString('latin1', 0, nul).split(' ')[1]) : NaN;
    return Number.isSafeInteger(size) && size >= 0 ? nul + 1 + size : undefined;
  } catch {
    return undefined;
  }
}

/** A loose object file's type and content; undefined when it is not one or its size is wrong. */
export function decodeLooseObject(deflated: Uint8Array): { type: string; content: Buffer } | undefined {
  let raw: Buffer;
  try {
    // Output the object's size (its header says it) rather than node's 16 KiB a call: packing 6,700 loose objects
    // otherwise churned ~100 MB of buffers through malloc, which glibc kept as RSS afterwards (bench/README.md).
    raw = inflateSync(deflated, { chunkSize: Math.max(64, (looseObjectSize(deflated) ?? deflated.length * 4) + 64) });
  } catch {
    return undefined;
  }
  const nul = raw.indexOf(0);
  const [type, size] = raw.toString('latin1', 0, Math.max(nul, 0)).split(' ');
  const content = raw.subarray(nul + 1);
  return nul > 0 && Number(size) === content.length ? { type, content } : undefined;
}
