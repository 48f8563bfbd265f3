// Reading pack files an object at a time. isomorphic-git reads a whole pack into memory the first time it needs
// one object from it, and keeps it for the life of its cache: a daemon answering history queries would end up
// holding every pack of the repository. Here an object costs one small read and one inflate, plus its delta
// bases for an object stored as a delta (fetched packs and git's own gc have them).
// Format: https://git-scm.com/docs/gitformat-pack (index version 2; deltas as in "Deltified representation").
import { closeSync, existsSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { inflateSync } from 'node:zlib';

const WINDOW_BYTES = 64 << 10;
const IDX_SIGNATURE = 0xff744f63;
const OFS_DELTA = 6;
const REF_DELTA = 7;

/** Where a delta's base comes from: the object at an offset of the same pack, or an object by id. */
export interface DeltaBases {
  atOffset(offset: number): Buffer | undefined;
  byId(id: Buffer): Buffer | undefined;
}

/**
 * Applies a git delta to its base: two sizes (base, result), then instructions, each either a copy of a range of
 * the base (top bit set; which offset and size bytes follow is in the low 7 bits) or an insert of the next n bytes.
 */
export function applyDelta(base: Buffer, delta: Buffer): Buffer {
  let at = 0;
  const size = () => {
    let value = 0;
    for (let shift = 0; ; shift += 7) {
      const byte = delta[at++];
      value += (byte & 0x7f) * 2 ** shift;
      if (!(byte & 0x80)) return value;
    }
  };
  const baseSize = size();
  if (baseSize !== base.length) throw new Error(`delta expects a base of ${baseSize} bytes, got ${base.length}`);
  const out = Buffer.allocUnsafe(size());
  let written = 0;
  while (at < delta.length) {
    const op = delta[at++];
    if (op & 0x80) {
      let offset = 0;
      let length = 0;
      for (let i = 0; i < 4; i++) if (op & (1 << i)) offset += delta[at++] * 2 ** (8 * i);
      for (let i = 0; i < 3; i++) if (op & (0x10 << i)) length += delta[at++] * 2 ** (8 * i);
      if (length === 0) length = 0x10000;
      if (offset + length > base.length || written + length > out.length) throw new Error('delta copies beyond its base or result');
      written += base.copy(out, written, offset, offset + length);
    } else if (op > 0) {
      if (at + op > delta.length || written + op > out.length) throw new Error('delta inserts beyond its end');
      written += delta.copy(out, written, at, at + op);
      at += op;
    } else {
      throw new Error('delta has a reserved instruction (0)');
    }
  }
  if (written !== out.length) throw new Error(`delta made ${written} bytes, expected ${out.length}`);
  return out;
}

/**
 * Readers holding an open file and a window: the least recently used beyond this many let go of both (a daemon's
 * repository gains a pack per fetch; each keeping 64 KiB and a descriptor would grow without end).
 */
const OPEN_READERS = 8;
const openReaders = new Set<PackFileReader>();

function opened(reader: PackFileReader): void {
  openReaders.delete(reader);
  openReaders.add(reader);
  if (openReaders.size > OPEN_READERS) openReaders.values().next().value!.close();
}

/** A pack file's bytes, read through a window: objects read in about the order they were written share reads. */
export class PackFileReader {
  readonly file: string;
  private fd: number | undefined;
  // Small enough that a random read costs little more than the object itself; a few hundred of our compressed
  // objects (a few hundred bytes each) fit, so a sequential reader makes one read call per window.
  private window: Buffer | undefined;
  private windowStart = 0;
  private windowEnd = 0;

  constructor(file: string) {
    this.file = file;
  }

  /**
   * The content of the object stored at [start, end). A delta's base is found with `bases`: by its offset in
   * this pack, or by id; without them (or when the base is not found) a delta reads as undefined.
   */
  object(start: number, end: number, bases?: DeltaBases): Buffer | undefined {
    const raw = this.bytes(start, end);
    const typeCode = (raw[0] >> 4) & 7;
    // The type-and-size header: 4 size bits in the first byte, 7 in each next one while the top bit is set.
    let size = raw[0] & 0x0f;
    let at = 0;
    for (let shift = 4; raw[at] & 0x80; shift += 7) size += (raw[++at] & 0x7f) * 2 ** shift;
    at++;
    // An output buffer of the object's size: node's default 16 KiB per call is churn the GC sees late.
    const inflate = (from: number) => inflateSync(raw.subarray(from), { chunkSize: Math.max(64, size + 64) });
    if (typeCode >= 1 && typeCode <= 4) return inflate(at);
    if (!bases || (typeCode !== OFS_DELTA && typeCode !== REF_DELTA)) return undefined;
    if (typeCode === REF_DELTA) {
      const baseId = Buffer.from(raw.subarray(at, at + 20));
      const delta = inflate(at + 20); // before the base is read: that may move the window `raw` points into
      const base = bases.byId(baseId);
      return base && applyDelta(base, delta);
    }
    // The base's distance back from this object: big-endian 7-bit groups, each continuation adding one.
    let distance = raw[at] & 0x7f;
    while (raw[at] & 0x80) distance = (distance + 1) * 128 + (raw[++at] & 0x7f);
    const delta = inflate(at + 1);
    const base = bases.atOffset(start - distance);
    return base && applyDelta(base, delta);
  }

  private bytes(start: number, end: number): Buffer {
    opened(this);
    const fd = this.fd ??= openSync(this.file, 'r');
    if (end - start > WINDOW_BYTES) {
      const raw = Buffer.alloc(end - start);
      readSync(fd, raw, 0, raw.length, start);
      return raw;
    }
    const window = this.window ??= Buffer.allocUnsafe(WINDOW_BYTES);
    if (start < this.windowStart || end > this.windowEnd) {
      this.windowStart = start;
      this.windowEnd = start + readSync(fd, window, 0, WINDOW_BYTES, start);
      if (end > this.windowEnd) throw new Error(`pack ${this.file} ends before byte ${end}`);
    }
    return window.subarray(start - this.windowStart, end - this.windowStart);
  }

  close(): void {
    openReaders.delete(this);
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    this.window = undefined;
    this.windowStart = this.windowEnd = 0;
  }
}

// Delta bases lately read, of all packs together (bounded in total, however many packs there are).
const RECENT_BASES_BYTES = 1 << 20;
const recentBases = new Map<string, Buffer>();
let recentBytes = 0;

/** A pack on disk, found through its version-2 index: the index is held (~36 bytes an object), the pack is not. */
export class IndexedPack {
  private readonly reader: PackFileReader;
  private readonly idx: Buffer;
  private readonly count: number;
  private readonly packSize: number;
  private sortedOffsets: Float64Array | undefined;

  private constructor(packFile: string, idx: Buffer, packSize: number) {
    this.reader = new PackFileReader(packFile);
    this.idx = idx;
    this.count = idx.readUInt32BE(8 + 255 * 4);
    this.packSize = packSize;
  }

  /** The pack of an index file, or undefined when either is missing or the index is not version 2. */
  static open(idxFile: string): IndexedPack | undefined {
    const packFile = idxFile.replace(/\.idx$/, '.pack');
    if (!existsSync(packFile)) return undefined;
    const idx = readFileSync(idxFile);
    if (idx.length < 8 + 1024 || idx.readUInt32BE(0) !== IDX_SIGNATURE || idx.readUInt32BE(4) !== 2) return undefined;
    return new IndexedPack(packFile, idx, statSync(packFile).size);
  }

  /** An object's content by its 20-byte id; undefined when it is not in this pack (or a delta's base is not). */
  read(id: Buffer): Buffer | undefined {
    const i = this.find(id);
    return i < 0 ? undefined : this.objectAt(this.offset(i), false);
  }

  // Bases within the pack (git never writes thin packs to disk). A chain is read base first each time; the last
  // few bases are kept (recentBases), since objects next to each other in a pack are often deltas of one base.
  private readonly bases: DeltaBases = {
    atOffset: (offset) => this.objectAt(offset, true),
    byId: (id) => {
      const i = this.find(id);
      return i < 0 ? undefined : this.objectAt(this.offset(i), true);
    },
  };
  private objectAt(start: number, asBase: boolean): Buffer | undefined {
    const key = `${start} ${this.reader.file}`;
    const cached = recentBases.get(key);
    if (cached) return cached;
    const content = this.reader.object(start, this.endOf(start), this.bases);
    if (asBase && content && content.length <= RECENT_BASES_BYTES / 4) {
      recentBases.set(key, content);
      recentBytes += content.length;
      for (const [k, kept] of recentBases) {
        if (recentBytes <= RECENT_BASES_BYTES) break;
        recentBases.delete(k);
        recentBytes -= kept.length;
      }
    }
    return content;
  }

  close(): void {
    this.reader.close();
  }

  // Names are sorted; the fan-out table says where those starting with each byte end.
  private find(oid: Buffer): number {
    const first = oid[0];
    let lo = first === 0 ? 0 : this.idx.readUInt32BE(8 + (first - 1) * 4);
    let hi = this.idx.readUInt32BE(8 + first * 4);
    const names = 8 + 1024;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const c = Buffer.compare(this.idx.subarray(names + mid * 20, names + mid * 20 + 20), oid);
      if (c === 0) return mid;
      if (c < 0) lo = mid + 1;
      else hi = mid;
    }
    return -1;
  }

  private offset(i: number): number {
    const offsets = 8 + 1024 + this.count * 24; // after the names (20 bytes each) and CRCs (4 each)
    const o = this.idx.readUInt32BE(offsets + i * 4);
    if (!(o & 0x80000000)) return o;
    return Number(this.idx.readBigUInt64BE(offsets + this.count * 4 + (o & 0x7fffffff) * 8)); // packs over 2 GiB
  }

  // An object ends where the next one starts (in file order), the last one at the pack's 20-byte checksum.
  private endOf(start: number): number {
    const sorted = this.sortedOffsets ??= Float64Array.from({ length: this.count }, (_, i) => this.offset(i)).sort();
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (sorted[mid] <= start) lo = mid + 1;
      else hi = mid;
    }
    return lo < sorted.length ? sorted[lo] : this.packSize - 20;
  }
}
