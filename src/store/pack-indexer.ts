// Indexing a pack as it is received (what `git index-pack` does for a fetch): every object's id, offset and CRC,
// for the .idx. The first pass runs while the bytes arrive, so it overlaps the server's writing of the pack.
// Format: git's Documentation/gitformat-pack.txt (objects, "Deltified representation").
import { createHash } from 'node:crypto';
import { constants as zlibConstants, crc32, inflateSync } from 'node:zlib';
import { objectId, type StoredType } from './codec.ts';
import { applyDelta } from './delta.ts';

const TYPES: Record<number, StoredType> = { 1: 'commit', 2: 'tree', 3: 'blob', 4: 'tag' };
const OFS_DELTA = 6;
const REF_DELTA = 7;
/** An object's header: type and size (≤ 10 bytes), then an offset (≤ 10) or a base id (20). */
const HEADER_BYTES_MAX = 40;

export class PackError extends Error {}

export type PackIds = Map<string, { offset: number; end: number; crc: number }>;

interface Entry {
  offset: number; dataStart: number; end: number; code: number; size: number; crc: number;
  baseOffset?: number; baseId?: string; id?: string;
  /** A delta's instructions, from the first pass until it is applied (small). */
  delta?: Buffer;
}

interface Content { type: StoredType; content: Buffer }

// An output buffer of the object's size: zlib's default of 16 KiB a call made most of the time and garbage.
const inflateSized = (input: Buffer, size: number) =>
  inflateSync(input, { info: true, chunkSize: Math.max(64, size + 64) }) as unknown as { buffer: Buffer; engine: { bytesWritten: number } };

/**
 * An object's stream inflated from the bytes that have arrived, or undefined when it goes on past them. A sync flush
 * returns what a cut-short stream gave instead of throwing (an error with a stack for nearly every network chunk);
 * a stream that ended consumed less than it was given, as a complete object is always followed by more of the pack.
 */
function inflateArrived(input: Buffer, size: number): { buffer: Buffer; consumed: number } | undefined {
  const { buffer, engine } = inflateSync(input, { info: true, chunkSize: Math.max(64, size + 64), finishFlush: zlibConstants.Z_SYNC_FLUSH }) as unknown as
    { buffer: Buffer; engine: { bytesWritten: number } };
  return engine.bytesWritten < input.length ? { buffer, consumed: engine.bytesWritten } : undefined;
}

const increment = <K>(counts: Map<K, number>, key: K, n: number) => counts.set(key, (counts.get(key) ?? 0) + n);

/**
 * A pack indexed as its bytes arrive (`add`), finished once all have (`finish`). First pass, as bytes come: each
 * object read once (whole objects hashed, deltas' instructions kept), and how many deltas name each base counted.
 * Second, at the end: deltas applied in pack order (git writes a base before its deltas), a content kept only while
 * deltas still need it, up to `cacheBytes`; one no longer kept is made again from the pack. We never ask for a thin
 * pack: a base must be in the pack. Keeping every content instead (32 MB for an 11k-object fetch) was most of the
 * indexing: fresh pages, at ~20 µs a fault on a VM (bench/README.md, issue 18).
 */
export class PackIndexer {
  private data = Buffer.allocUnsafe(1 << 20);
  private length = 0;
  private count = -1;
  private at = 12;
  /** Bytes to wait for before trying the next object again (it was cut short). */
  private waitFor = 12;
  private readonly entries: Entry[] = [];
  private readonly byOffset = new Map<number, Entry>();
  private readonly offsetOf = new Map<string, number>();
  private readonly usesLeft = new Map<number, number>(); // base offset → deltas still to apply to it
  private readonly usesById = new Map<string, number>(); // the same for ref deltas, until the base's id is known

  add(bytes: Buffer): void {
    if (this.length + bytes.length > this.data.length) {
      const grown = Buffer.allocUnsafe(Math.max(this.length + bytes.length, 2 * this.data.length));
      this.data.copy(grown, 0, 0, this.length);
      this.data = grown;
    }
    bytes.copy(this.data, this.length);
    this.length += bytes.length;
    if (this.length >= this.waitFor) this.scan(false);
  }

  /** Every object's id, offset and CRC, and the pack's bytes; throws PackError when the pack is not whole and sound. */
  finish(o: { cacheBytes?: number } = {}): { pack: Buffer; ids: PackIds } {
    this.scan(true);
    const pack = this.data.subarray(0, this.length);
    if (this.length !== this.at + 20 || !createHash('sha1').update(pack.subarray(0, this.at)).digest().equals(pack.subarray(this.at))) {
      throw new PackError('the pack checksum does not match');
    }
    return { pack, ids: this.resolve(pack, o.cacheBytes ?? 32 << 20) };
  }

  private named(e: Entry, id: string): void {
    e.id = id;
    this.offsetOf.set(id, e.offset);
    const n = this.usesById.get(id);
    if (n) increment(this.usesLeft, e.offset, n);
  }

  /** The first pass over the objects that have arrived (all of them when `final`). */
  private scan(final: boolean): void {
    const pack = this.data;
    if (this.count < 0) {
      if (this.length < 12) {
        if (final) throw new PackError('the remote sent no pack');
        return;
      }
      if (pack.toString('latin1', 0, 4) !== 'PACK') throw new PackError('the remote sent no pack');
      this.count = pack.readUInt32BE(8);
    }
    while (this.entries.length < this.count) {
      const offset = this.at;
      if (!final && this.length - offset < HEADER_BYTES_MAX) {
        this.waitFor = offset + HEADER_BYTES_MAX;
        return;
      }
      let at = offset;
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
      } else if (code === REF_DELTA) {
        e.baseId = pack.toString('hex', at, at + 20);
        at += 20;
      } else if (!TYPES[code]) {
        throw new PackError(`pack object at ${offset} has an unknown type ${code}`);
      }
      if (at >= this.length) throw new PackError(`the pack ends inside the object at ${offset}`); // only when final
      e.dataStart = at;
      const inflated = inflateArrived(pack.subarray(at, this.length), size);
      if (!inflated) {
        if (final) throw new PackError(`the pack ends inside the object at ${offset}`); // its checksum follows the last object
        // Not all here yet: try again when as much again has come (a big object is not inflated a hundred times).
        this.waitFor = this.length + Math.max(64 << 10, this.length - offset);
        return;
      }
      const { buffer, consumed } = inflated;
      e.end = this.at = at + consumed;
      e.crc = crc32(pack.subarray(offset, e.end));
      if (e.baseOffset !== undefined) increment(this.usesLeft, e.baseOffset, 1);
      if (e.baseId !== undefined) {
        const known = this.offsetOf.get(e.baseId);
        if (known === undefined) increment(this.usesById, e.baseId, 1);
        else increment(this.usesLeft, known, 1);
      }
      if (!TYPES[code]) e.delta = buffer;
      else {
        if (buffer.length !== size) throw new PackError(`pack object at ${offset} inflates to ${buffer.length} bytes, not ${size}`);
        this.named(e, objectId(TYPES[code], buffer));
      }
      this.entries.push(e);
      this.byOffset.set(offset, e);
    }
    this.waitFor = Infinity; // every object is here: the rest is the checksum
  }

  /** The second pass: every delta applied, its id known. */
  private resolve(pack: Buffer, cacheBytes: number): PackIds {
    const { usesLeft, byOffset, offsetOf } = this;
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
      if (!base && e.baseOffset !== undefined) throw new PackError(`pack object at ${e.offset} is a delta of an object not in the pack`);
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
    for (let pending = this.entries.filter((e) => !e.id); pending.length;) {
      const before = pending.length;
      for (const e of pending) {
        const base = baseOf(e);
        if (!base?.id) continue;
        const c = contentOf(e, !usesLeft.get(e.offset));
        e.delta = undefined;
        this.named(e, objectId(c.type, c.content));
        // Named as the base of ref deltas only now: kept after all (a copy when it was made in the scratch buffer).
        if (usesLeft.get(e.offset) && !cache.has(e.offset)) keep(e.offset, { type: c.type, content: Buffer.from(c.content) });
        release(base.offset);
      }
      pending = pending.filter((e) => !e.id);
      if (pending.length === before) throw new PackError(`${pending.length} pack objects are deltas of objects not in the pack`);
    }
    return new Map(this.entries.map((e) => [e.id!, { offset: e.offset, end: e.end, crc: e.crc }]));
  }
}
