// Fetching one ref's newest commit over git's smart HTTP protocol (upload-pack, version 0, stateless), and indexing
// the pack it sends with the project's own code. isomorphic-git's fetch needed 5.9 s for an 11k-file head where
// native git needs 0.7 s (bench/README.md); most of it was its pack indexing in JavaScript.
// Protocol: git's Documentation/gitprotocol-http.txt, gitprotocol-pack.txt (shallow, deepen, side-band-64k);
// pack and index formats: gitformat-pack.txt.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { crc32, inflateSync } from 'node:zlib';
import { atomicWrite, fsyncDir, writeDurably } from './atomic-write.ts';
import { objectId, type StoredType } from './codec.ts';
import { applyDelta } from './delta.ts';
import { encodeIndex } from './pack.ts';
import { parseAdvertisement, parsePktLines, pkt, request, SendPackError, type SendTarget } from './send-pack.ts';

const TYPES: Record<number, StoredType> = { 1: 'commit', 2: 'tree', 3: 'blob', 4: 'tag' };
const OFS_DELTA = 6;
const REF_DELTA = 7;

/**
 * Fetches the newest commit of each of `refs` the remote has, at depth 1 and in one request, into `gitdir` (a pack
 * and its index; the new shallow boundary in .git/shallow). `haves`: commits held here (with their trees), so the
 * server leaves out what they share. Returns each ref the remote has with its commit.
 */
export async function fetchRefs(gitdir: string, t: SendTarget, refs: string[], haves: string[]): Promise<Map<string, string>> {
  const advertised = parseAdvertisement(await request(t, 'info/refs?service=git-upload-pack', { method: 'GET' })).refs;
  const heads = new Map(refs.filter((r) => advertised.has(r)).map((r) => [r, advertised.get(r)!]));
  const wants = [...new Set(heads.values())].filter((oid) => !haves.includes(oid));
  if (wants.length === 0) return heads;
  const shallowFile = join(gitdir, 'shallow');
  const shallow = existsSync(shallowFile) ? readFileSync(shallowFile, 'utf8').split('\n').filter(Boolean) : [];
  const body = [
    pkt(`want ${wants[0]} side-band-64k ofs-delta shallow no-progress agent=kubetrail\n`),
    ...wants.slice(1).map((oid) => pkt(`want ${oid}\n`)),
    ...shallow.map((oid) => pkt(`shallow ${oid}\n`)),
    pkt('deepen 1\n'), '0000',
    ...haves.map((oid) => pkt(`have ${oid}\n`)),
    pkt('done\n'),
  ].join('');
  const response = await request(t, 'git-upload-pack', {
    method: 'POST', body: new Blob([body]).stream(),
    headers: { 'content-type': 'application/x-git-upload-pack-request', accept: 'application/x-git-upload-pack-result' },
  });
  const { pack, shallowNow, unshallow } = parseUploadPackResponse(response);
  if (pack.length) storePack(gitdir, pack);
  const next = [...new Set([...shallow.filter((oid) => !unshallow.has(oid)), ...shallowNow])];
  if (next.join() !== shallow.join()) await atomicWrite(shallowFile, next.length ? `${next.join('\n')}\n` : '');
  return heads;
}

/** The shallow update (lines up to the first flush), then ACK/NAK, then the pack in side band 1. */
export function parseUploadPackResponse(data: Buffer): { pack: Buffer; shallowNow: string[]; unshallow: Set<string> } {
  const shallowNow: string[] = [];
  const unshallow = new Set<string>();
  const pack: Buffer[] = [];
  let inShallowSection = true;
  for (const line of parsePktLines(data)) {
    if (line.length === 0) {
      inShallowSection = false;
      continue;
    }
    const text = line[0] > 3 ? line.toString('latin1').trimEnd() : '';
    if (inShallowSection && text.startsWith('shallow ')) shallowNow.push(text.slice(8));
    else if (inShallowSection && text.startsWith('unshallow ')) unshallow.add(text.slice(10));
    else if (text.startsWith('ACK') || text === 'NAK') inShallowSection = false;
    else if (text.startsWith('ERR ')) throw new SendPackError(`the remote refused the fetch: ${text.slice(4)}`);
    else if (line[0] === 1) pack.push(line.subarray(1));
    else if (line[0] === 3) throw new SendPackError(`the remote failed: ${line.subarray(1).toString('utf8').trim()}`);
  }
  return { pack: Buffer.concat(pack), shallowNow, unshallow };
}

interface Entry {
  offset: number; dataStart: number; end: number; code: number; size: number; crc: number;
  baseOffset?: number; baseId?: string; id?: string;
  /** A delta's instructions, from the first read until it is applied (small). */
  delta?: Buffer;
}

// An output buffer of the object's size: zlib's default of 16 KiB a call made most of the time and garbage.
const inflateSized = (input: Buffer, size: number) =>
  inflateSync(input, { info: true, chunkSize: Math.max(64, size + 64) }) as unknown as { buffer: Buffer; engine: { bytesWritten: number } };

interface Content { type: StoredType; content: Buffer }

const add = <K>(counts: Map<K, number>, key: K, n: number) => counts.set(key, (counts.get(key) ?? 0) + n);

/**
 * Every object's id, offset and CRC in a pack as received. First pass: each object read once (whole objects hashed
 * then, deltas' instructions kept) and how many deltas name each base counted. Second: deltas applied in pack order
 * (git writes a base before its deltas), a content kept only while deltas still need it, up to `cacheBytes`; one
 * no longer kept is made again from the pack. We never ask for a thin pack: a base must be in the pack.
 * Keeping every content instead (32 MB for an 11k-object fetch) was most of indexing: fresh pages, at ~20 µs a
 * fault on a VM (bench/README.md, issue 18).
 */
export function indexPack(pack: Buffer, o: { cacheBytes?: number } = {}): Map<string, { offset: number; end: number; crc: number }> {
  if (pack.toString('latin1', 0, 4) !== 'PACK') throw new SendPackError('the remote sent no pack');
  const count = pack.readUInt32BE(8);
  const entries: Entry[] = [];
  const byOffset = new Map<number, Entry>();
  const offsetOf = new Map<string, number>();
  const usesLeft = new Map<number, number>(); // base offset → deltas still to apply to it
  const usesById = new Map<string, number>(); // the same for ref deltas, until the base's id is known
  const named = (e: Entry, id: string) => {
    e.id = id;
    offsetOf.set(id, e.offset);
    const n = usesById.get(id);
    if (n) add(usesLeft, e.offset, n);
  };
  let at = 12;
  for (let i = 0; i < count; i++) {
    const offset = at;
    const code = (pack[at] >> 4) & 7;
    let size = pack[at] & 0x0f;
    for (let shift = 4; pack[at] & 0x80; shift += 7) size += (pack[++at] & 0x7f) * 2 ** shift;
    at++;
    const e: Entry = { offset, dataStart: 0, end: 0, code, size, crc: 0 };
    if (code === OFS_DELTA) {
      let distance = pack[at] & 0x7f;
      while (pack[at] & 0x80) distance = (distance + 1) * 128 + (pack[++at] & 0x7f);
      at++;
      e.baseOffset = offset - distance;
      add(usesLeft, e.baseOffset, 1);
    } else if (code === REF_DELTA) {
      e.baseId = pack.toString('hex', at, at + 20);
      at += 20;
      const known = offsetOf.get(e.baseId);
      if (known === undefined) add(usesById, e.baseId, 1);
      else add(usesLeft, known, 1);
    } else if (!TYPES[code]) {
      throw new SendPackError(`pack object at ${offset} has an unknown type ${code}`);
    }
    e.dataStart = at;
    const { buffer, engine } = inflateSized(pack.subarray(at), size);
    at += engine.bytesWritten;
    e.end = at;
    e.crc = crc32(pack.subarray(offset, at));
    if (!TYPES[code]) e.delta = buffer;
    else {
      if (buffer.length !== size) throw new SendPackError(`pack object at ${offset} inflates to ${buffer.length} bytes, not ${size}`);
      named(e, objectId(TYPES[code], buffer));
    }
    entries.push(e);
    byOffset.set(offset, e);
  }
  if (!createHash('sha1').update(pack.subarray(0, at)).digest().equals(pack.subarray(at, at + 20))) throw new SendPackError('the pack checksum does not match');

  const cacheBytes = o.cacheBytes ?? 32 << 20;
  const cache = new Map<number, Content>();
  let cached = 0;
  const keep = (offset: number, c: Content) => {
    if (!usesLeft.get(offset)) return;
    cache.set(offset, c);
    cached += c.content.length;
    for (const [k, v] of cache) {
      if (cached <= cacheBytes) break;
      cache.delete(k);
      cached -= v.content.length;
    }
  };
  const release = (offset: number) => {
    const n = usesLeft.get(offset)! - 1;
    usesLeft.set(offset, n);
    const c = n > 0 ? undefined : cache.get(offset);
    if (c) {
      cache.delete(offset);
      cached -= c.content.length;
    }
  };
  // A delta's base; undefined while a ref delta's base has no id yet.
  const baseOf = (e: Entry) => {
    const offset = e.baseOffset ?? offsetOf.get(e.baseId!);
    const base = offset === undefined ? undefined : byOffset.get(offset);
    if (!base && e.baseOffset !== undefined) throw new SendPackError(`pack object at ${e.offset} is a delta of an object not in the pack`);
    return base;
  };
  // A delta no other delta names is only hashed: made in one reused buffer (fresh memory for each was most of it).
  let scratch = Buffer.allocUnsafe(0);
  const intoScratch = (size: number) => {
    if (scratch.length < size) scratch = Buffer.allocUnsafe(Math.max(size, 2 * scratch.length));
    return scratch.subarray(0, size);
  };
  // An object's content: kept, or made (again) from the pack, its base first; kept while deltas still need it.
  const contentOf = (e: Entry, transient = false): Content => {
    const hit = cache.get(e.offset);
    if (hit) return hit;
    const data = e.delta ?? inflateSized(pack.subarray(e.dataStart, e.end), e.size).buffer;
    let c: Content = { type: TYPES[e.code], content: data };
    if (!TYPES[e.code]) {
      const base = contentOf(baseOf(e)!);
      c = { type: base.type, content: applyDelta(base.content, data, transient ? intoScratch : undefined) };
    }
    keep(e.offset, c);
    return c;
  };
  // A ref delta's base may be a delta later in the pack: passes until every id is known.
  for (let pending = entries.filter((e) => !e.id); pending.length;) {
    const before = pending.length;
    for (const e of pending) {
      const base = baseOf(e);
      if (!base?.id) continue;
      const c = contentOf(e, !usesLeft.get(e.offset));
      e.delta = undefined;
      named(e, objectId(c.type, c.content));
      release(base.offset);
    }
    pending = pending.filter((e) => !e.id);
    if (pending.length === before) throw new SendPackError(`${pending.length} pack objects are deltas of objects not in the pack`);
  }
  return new Map(entries.map((e) => [e.id!, { offset: e.offset, end: e.end, crc: e.crc }]));
}

/** Pack and index durable, then renamed into place (index last: git and our reader look for packs by index). */
function storePack(gitdir: string, pack: Buffer): void {
  const index = encodeIndex(indexPack(pack), pack.subarray(-20));
  const dir = join(gitdir, 'objects', 'pack');
  mkdirSync(dir, { recursive: true });
  const name = `pack-${pack.subarray(-20).toString('hex')}`;
  const tmp = join(dir, `tmp_pack_kubetrail_fetch_${process.pid}_${Date.now()}`);
  writeDurably(tmp, pack);
  writeDurably(`${tmp}.idx`, index);
  renameSync(tmp, join(dir, `${name}.pack`));
  renameSync(`${tmp}.idx`, join(dir, `${name}.idx`));
  fsyncDir(dir);
}
