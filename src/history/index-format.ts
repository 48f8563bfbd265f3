// The history index's file format: one record per commit of the branch's first-parent chain, oldest first, each
// with the files it changed under clusters/ and their new blob ids. Records are self-checking (checksum, and each
// names its parent, which must be the record before), and carry their length at both ends, so a writer can append
// after reading only the last one and a reader stops at a torn or foreign tail instead of trusting it.
import { crc32 } from 'node:zlib';

export const MAGIC = Buffer.from('KTHI0001');
const ZERO = '0'.repeat(40);

export interface IndexChange {
  /** The full path, `clusters/<id>/<type>/<ns>/<file>`. */
  path: string;
  /** The blob after the commit; undefined when the commit deleted the file. */
  blob?: string;
}

export interface IndexRecord {
  oid: string;
  /** First parent; undefined for a root commit. */
  parent?: string;
  committerTime: number;
  authorTime: number;
  /** From the Kubetrail-Cluster trailer. */
  cluster?: string;
  /** Sorted by path as History sorts a commit's changes. */
  changes: IndexChange[];
}

const PREFIX = 'clusters/';

const checksum = (body: Buffer) => crc32(body);

export function encodeRecord(r: IndexRecord): Buffer {
  const parts: Buffer[] = [];
  const head = Buffer.alloc(48);
  head.write(r.oid, 0, 'hex');
  head.write(r.parent ?? ZERO, 20, 'hex');
  head.writeUInt32BE(r.committerTime, 40);
  head.writeUInt32BE(r.authorTime, 44);
  const cluster = Buffer.from(r.cluster ?? '');
  const count = Buffer.alloc(5);
  count.writeUInt8(cluster.length, 0);
  parts.push(head, count.subarray(0, 1), cluster);
  count.writeUInt32BE(r.changes.length, 1);
  parts.push(count.subarray(1));
  for (const c of r.changes) {
    if (!c.path.startsWith(PREFIX)) throw new Error(`history index: ${c.path} is outside ${PREFIX}`);
    const path = Buffer.from(c.path.slice(PREFIX.length));
    const entry = Buffer.alloc(2 + path.length + 20);
    entry.writeUInt16BE(path.length, 0);
    path.copy(entry, 2);
    entry.write(c.blob ?? ZERO, 2 + path.length, 'hex');
    parts.push(entry);
  }
  const body = Buffer.concat(parts);
  const frame = Buffer.alloc(body.length + 12);
  frame.writeUInt32BE(body.length, 0);
  body.copy(frame, 4);
  frame.writeUInt32BE(checksum(body), body.length + 4);
  frame.writeUInt32BE(body.length, body.length + 8);
  return frame;
}

/** Receives a record's parts as they are decoded, as bytes where they lie: loading a year of history makes no string per commit or change. */
export interface RecordSink {
  /** A commit: its id the 20 bytes at `oidAt` of `buf`, its parent's at `parentAt` (undefined: a root), its cluster the UTF-8 at [clusterStart, clusterEnd). */
  commit(buf: Buffer, oidAt: number, parentAt: number | undefined, committerTime: number, authorTime: number, clusterStart: number, clusterEnd: number): void;
  /**
   * A change: its path below clusters/ is the UTF-8 at [pathStart, pathEnd) of `buf`, its blob the 20 bytes after
   * it (all zero: deleted).
   */
  change(buf: Buffer, pathStart: number, pathEnd: number): void;
}

/** Whether a body's lengths add up (checked before any of it reaches a sink). */
function wellFormed(body: Buffer): boolean {
  if (body.length < 53) return false;
  let at = 49 + body.readUInt8(48);
  if (at + 4 > body.length) return false;
  const n = body.readUInt32BE(at);
  at += 4;
  for (let i = 0; i < n && at + 2 <= body.length; i++) at += 2 + body.readUInt16BE(at) + 20;
  return at === body.length;
}

function visitBody(body: Buffer, sink: RecordSink): void {
  let root = true;
  for (let i = 20; i < 40 && root; i++) root = body[i] === 0;
  const clusterLength = body.readUInt8(48);
  sink.commit(body, 0, root ? undefined : 20, body.readUInt32BE(40), body.readUInt32BE(44), 49, 49 + clusterLength);
  let at = 49 + clusterLength;
  const n = body.readUInt32BE(at);
  at += 4;
  for (let i = 0; i < n; i++) {
    const length = body.readUInt16BE(at);
    sink.change(body, at + 2, at + 2 + length);
    at += 2 + length + 20;
  }
}

function decodeBody(body: Buffer): IndexRecord {
  let record!: IndexRecord;
  visitBody(body, {
    commit: (buf, oidAt, parentAt, committerTime, authorTime, clusterStart, clusterEnd) => {
      const parent = parentAt === undefined ? undefined : buf.toString('hex', parentAt, parentAt + 20);
      const cluster = buf.toString('utf8', clusterStart, clusterEnd);
      record = { oid: buf.toString('hex', oidAt, oidAt + 20), ...(parent && { parent }), committerTime, authorTime, ...(cluster && { cluster }), changes: [] };
    },
    change: (buf, pathStart, pathEnd) => {
      const path = PREFIX + buf.toString('utf8', pathStart, pathEnd);
      const blob = buf.toString('hex', pathEnd, pathEnd + 20);
      record.changes.push(blob === ZERO ? { path } : { path, blob });
    },
  });
  return record;
}

/** The checked body of the frame that starts at `at`, and where the next starts; undefined when torn or damaged. */
function frameAt(buf: Buffer, at: number): { body: Buffer; end: number } | undefined {
  if (at + 4 > buf.length) return undefined;
  const length = buf.readUInt32BE(at);
  const end = at + 4 + length + 8;
  if (length < 53 || end > buf.length) return undefined;
  const body = buf.subarray(at + 4, at + 4 + length);
  if (buf.readUInt32BE(at + 4 + length) !== checksum(body) || buf.readUInt32BE(at + 8 + length) !== length || !wellFormed(body)) return undefined;
  return { body, end };
}

/** The record whose frame starts at `at`, and where the next starts; undefined when it is torn or damaged. */
export function decodeRecordAt(buf: Buffer, at: number): { record: IndexRecord; end: number } | undefined {
  const frame = frameAt(buf, at);
  return frame && { record: decodeBody(frame.body), end: frame.end };
}

/**
 * The last record of contents ending at `end`, read backwards from its trailing length; `minStart` is where records
 * may begin in `buf` (after the magic when `buf` is the file from its start).
 */
export function decodeLastRecord(buf: Buffer, end = buf.length, minStart = MAGIC.length): { record: IndexRecord; start: number } | undefined {
  if (end < minStart + 4) return undefined;
  const length = buf.readUInt32BE(end - 4);
  const start = end - 12 - length;
  if (start < minStart) return undefined;
  const decoded = decodeRecordAt(buf, start);
  return decoded && decoded.end === end ? { record: decoded.record, start } : undefined;
}

/** A file (or a buffer) read a part at a time: `read` puts up to `length` bytes from `position` into `into` at `at`. */
export interface ByteSource { size: number; read(into: Buffer, at: number, length: number, position: number): number }

const bufferSource = (buf: Buffer): ByteSource => ({
  size: buf.length,
  read: (into, at, length, position) => buf.copy(into, at, Math.min(position, buf.length), Math.min(position + length, buf.length)),
});

/**
 * The records of a whole file from the start into `sink`, each the first-parent child of the one before (the first
 * a root commit, or where the chain was cut: see HistoryIndex.cutAt); stops at the first that is torn, damaged or
 * not linked.
 */
export function loadRecords(source: ByteSource | Buffer, sink: RecordSink): void {
  for (const frame of linkedFrames(Buffer.isBuffer(source) ? bufferSource(source) : source)) visitBody(frame.body, sink);
}

/** As loadRecords, as record objects with where each ends (tests, and finding where to cut a file). */
export function* decodeRecords(source: ByteSource | Buffer): Generator<{ record: IndexRecord; end: number }> {
  for (const frame of linkedFrames(Buffer.isBuffer(source) ? bufferSource(source) : source)) yield { record: decodeBody(frame.body), end: frame.end };
}

const CHUNK_BYTES = 1 << 20;

/**
 * The linked frames from the start, read a chunk at a time: a year's index is ~56 MB, and the pages of a buffer that
 * size cost as much as decoding it. A body is valid until the next step; `end` is a position in the file.
 */
function* linkedFrames(source: ByteSource): Generator<{ body: Buffer; end: number }> {
  let buf = Buffer.allocUnsafeSlow(Math.min(CHUNK_BYTES, Math.max(source.size, MAGIC.length)));
  let base = 0; // the file position of buf[0]
  let filled = source.read(buf, 0, buf.length, 0);
  if (filled < MAGIC.length || !buf.subarray(0, MAGIC.length).equals(MAGIC)) return;
  const parent = Buffer.alloc(20);
  let first = true;
  for (let at = MAGIC.length; ;) {
    // The frame's whole length (its length field first), when the file has that much after `at`.
    const needed = at + 4 <= filled ? buf.readUInt32BE(at) + 12 : 4;
    if (base + at + needed > source.size) return; // torn, or a damaged length
    if (at + needed > filled) {
      const kept = filled - at;
      const next = needed > buf.length ? Buffer.allocUnsafeSlow(Math.max(needed, CHUNK_BYTES)) : buf;
      buf.copy(next, 0, at, filled);
      buf = next;
      base += at;
      at = 0;
      filled = kept + source.read(buf, kept, Math.min(buf.length, source.size - base) - kept, base + kept);
      if (filled < needed) return; // the file shrank meanwhile
      continue; // measured again: the length may be known only now
    }
    const frame = frameAt(buf.subarray(0, filled), at);
    if (!frame) return;
    if (!first && !parent.equals(frame.body.subarray(20, 40))) return;
    yield { body: frame.body, end: base + frame.end };
    frame.body.copy(parent, 0, 0, 20);
    first = false;
    at = frame.end;
  }
}
