// The history index's file format: one record per commit of the branch's first-parent chain, oldest first, each
// with the files it changed under clusters/ and their new blob ids. Records are self-checking (checksum, and each
// names its parent, which must be the record before), and carry their length at both ends, so a writer can append
// after reading only the last one and a reader stops at a torn or foreign tail instead of trusting it.
import { createHash } from 'node:crypto';

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

const checksum = (body: Buffer) => createHash('sha1').update(body).digest().readUInt32BE(0);

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

function decodeBody(body: Buffer): IndexRecord {
  const hex = (at: number) => body.toString('hex', at, at + 20);
  const parent = hex(20);
  const clusterLength = body.readUInt8(48);
  let at = 49 + clusterLength;
  const n = body.readUInt32BE(at);
  at += 4;
  const changes: IndexChange[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const length = body.readUInt16BE(at);
    const path = PREFIX + body.toString('utf8', at + 2, at + 2 + length);
    const blob = hex(at + 2 + length);
    changes[i] = blob === ZERO ? { path } : { path, blob };
    at += 2 + length + 20;
  }
  if (at !== body.length) throw new Error('record length');
  return {
    oid: hex(0), ...(parent !== ZERO && { parent }), committerTime: body.readUInt32BE(40), authorTime: body.readUInt32BE(44),
    ...(clusterLength && { cluster: body.toString('utf8', 49, 49 + clusterLength) }), changes,
  };
}

/** The record whose frame starts at `at`, and where the next starts; undefined when it is torn or damaged. */
export function decodeRecordAt(buf: Buffer, at: number): { record: IndexRecord; end: number } | undefined {
  if (at + 4 > buf.length) return undefined;
  const length = buf.readUInt32BE(at);
  const end = at + 4 + length + 8;
  if (length < 53 || end > buf.length) return undefined;
  const body = buf.subarray(at + 4, at + 4 + length);
  if (buf.readUInt32BE(at + 4 + length) !== checksum(body) || buf.readUInt32BE(at + 8 + length) !== length) return undefined;
  try {
    return { record: decodeBody(body), end };
  } catch {
    return undefined;
  }
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

/**
 * The records of a whole file from the start, each the first-parent child of the one before (the first a root
 * commit, or where the chain was cut: see HistoryIndex.cutAt), with where each ends; stops at the first that is torn, damaged or not linked. One at a time: a year
 * of history is ~100k records, too many to hold as objects at once.
 */
export function* decodeRecords(buf: Buffer): Generator<{ record: IndexRecord; end: number }> {
  if (buf.length < MAGIC.length || !buf.subarray(0, MAGIC.length).equals(MAGIC)) return;
  let at = MAGIC.length;
  let parent: string | undefined;
  for (;;) {
    const next = decodeRecordAt(buf, at);
    if (!next || (parent !== undefined && next.record.parent !== parent)) return;
    yield next;
    parent = next.record.oid;
    at = next.end;
  }
}
