// Reading pack files an object at a time. isomorphic-git reads a whole pack into memory the first time it needs
// one object from it, and keeps it for the life of its cache: a daemon answering history queries would end up
// holding every pack of the repository. Here an object costs one small read and one inflate, plus its delta
// bases for an object stored as a delta (fetched packs and git's own gc have them).
// Format: https://git-scm.com/docs/gitformat-pack (index version 2; deltas as in "Deltified representation").
import { closeSync, existsSync, fstatSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { crc32, inflateSync } from 'node:zlib';
import type { StoredType } from './codec.ts';
import { applyDelta } from './delta.ts';

export { applyDelta };

const WINDOW_BYTES = 64 << 10;
/** An index is read a few bytes at a time (a name, an offset): a small window. */
const IDX_WINDOW_BYTES = 4 << 10;
const IDX_SIGNATURE = 0xff744f63;
/** Where an index's names start: after its signature, version and fan-out table. */
const NAMES = 8 + 1024;
const OFS_DELTA = 6;
const REF_DELTA = 7;
const TYPE_NAMES: Record<number, StoredType> = { 1: 'commit', 2: 'tree', 3: 'blob', 4: 'tag' };

/** Where a delta's base comes from: the object at an offset of the same pack, or an object by id. */
export interface DeltaBases {
  atOffset(offset: number): Buffer | undefined;
  byId(id: Buffer): Buffer | undefined;
}

/**
 * Readers holding an open file and a window: the least recently used beyond this many let go of both (a daemon's
 * repository gains a pack per fetch; each keeping 64 KiB and a descriptor would grow without end). A pack's index
 * is read through a reader of its own: 16 is 8 packs with their indexes.
 */
const OPEN_READERS = 16;
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
  private readonly windowBytes: number;

  constructor(file: string, o: { windowBytes?: number } = {}) {
    this.file = file;
    this.windowBytes = o.windowBytes ?? WINDOW_BYTES;
  }

  /**
   * The content of the object stored at `start`, which ends by `end` (exactly there, or at most there: its
   * header's size bounds what is read). A delta's base is found with `bases`: by its offset in this pack, or by
   * id; without them (or when the base is not found) a delta reads as undefined. So does any object once the pack
   * file is gone (a repack replaced it: the caller lists the packs again).
   */
  object(start: number, end: number, bases?: DeltaBases): Buffer | undefined {
    const header = this.entry(start, Math.min(start + 32, end)); // ≤ 32 bytes, a base's id included
    if (!header) return undefined;
    // Deflate never makes more than zlib's compressBound of its input.
    const { size } = header;
    const bound = Math.min(end, start + 32 + size + Math.floor(size / 4096) + Math.floor(size / 16384) + 16);
    const entry = this.entry(start, bound);
    if (!entry) return undefined;
    const { typeCode, dataAt } = entry;
    // An output buffer of the object's size: node's default 16 KiB per call is churn the GC sees late. Only this
    // object's own data is read again when cut short at the bound (a deflater beyond zlib's bound: none known);
    // a damaged base fails once, where it is.
    const inflate = (from: number) => {
      const options = { chunkSize: Math.max(64, size + 64) };
      try {
        return inflateSync(entry.raw.subarray(from), options);
      } catch (e) {
        if (bound === end || (e as NodeJS.ErrnoException).code !== 'Z_BUF_ERROR') throw e;
        return inflateSync(this.bytes(start, end)!.subarray(from), options);
      }
    };
    if (typeCode >= 1 && typeCode <= 4) return inflate(dataAt);
    if (!bases || (typeCode !== OFS_DELTA && typeCode !== REF_DELTA)) return undefined;
    const delta = inflate(entry.deltaAt!); // before the base is read: that may move the window `raw` points into
    const base = entry.baseId ? bases.byId(entry.baseId) : bases.atOffset(entry.baseOffset!);
    return base && applyDelta(base, delta);
  }

  /** The packed bytes at [start, end) (header and compressed data), valid until the next read of this pack. */
  raw(start: number, end: number): Buffer | undefined {
    return this.bytes(start, end);
  }

  /** The type code of the object at [start, end), or, for a delta, where its base is (offset or id). */
  base(start: number, end: number): { typeCode: number; baseOffset?: number; baseId?: Buffer } | undefined {
    const entry = this.entry(start, end);
    return entry && { typeCode: entry.typeCode, baseOffset: entry.baseOffset, baseId: entry.baseId };
  }

  private entry(start: number, end: number) {
    const raw = this.bytes(start, end);
    if (!raw) return undefined;
    const typeCode = (raw[0] >> 4) & 7;
    // The type-and-size header: 4 size bits in the first byte, 7 in each next one while the top bit is set.
    let size = raw[0] & 0x0f;
    let at = 0;
    for (let shift = 4; raw[at] & 0x80; shift += 7) size += (raw[++at] & 0x7f) * 2 ** shift;
    at++;
    if (typeCode === REF_DELTA) return { typeCode, raw, size, dataAt: at, deltaAt: at + 20, baseId: Buffer.from(raw.subarray(at, at + 20)) };
    if (typeCode !== OFS_DELTA) return { typeCode, raw, size, dataAt: at };
    // The base's distance back from this object: big-endian 7-bit groups, each continuation adding one.
    let distance = raw[at] & 0x7f;
    while (raw[at] & 0x80) distance = (distance + 1) * 128 + (raw[++at] & 0x7f);
    return { typeCode, raw, size, dataAt: at, deltaAt: at + 1, baseOffset: start - distance };
  }

  private bytes(start: number, end: number): Buffer | undefined {
    const fd = this.open();
    if (fd === undefined) return undefined;
    if (end - start > this.windowBytes) {
      const raw = Buffer.alloc(end - start);
      readSync(fd, raw, 0, raw.length, start);
      return raw;
    }
    const window = this.window ??= Buffer.allocUnsafeSlow(this.windowBytes);
    if (start < this.windowStart || end > this.windowEnd) {
      this.windowStart = start;
      this.windowEnd = start + readSync(fd, window, 0, this.windowBytes, start);
      if (end > this.windowEnd) throw new Error(`${this.file} ends before byte ${end}`);
    }
    return window.subarray(start - this.windowStart, end - this.windowStart);
  }

  private open(): number | undefined {
    opened(this);
    try {
      return this.fd ??= openSync(this.file, 'r');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
  }

  /** The pack's trailing checksum (the last 20 of `size` bytes), or undefined when the file is gone or short. */
  trailer(size: number): Buffer | undefined {
    const fd = this.open();
    if (fd === undefined || size < 32) return undefined;
    const sum = Buffer.alloc(20);
    return readSync(fd, sum, 0, 20, size - 20) === 20 ? sum : undefined;
  }

  close(): void {
    openReaders.delete(this);
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    this.window = undefined;
    this.windowStart = this.windowEnd = 0;
  }
}

/**
 * A buffer kept for long in memory of its own. Node cuts small buffers (inflate output, small files) out of a
 * shared pool (Buffer.poolSize: 64 KiB in Node 24), and one kept slice keeps its whole slab: 1 MiB of cached
 * 1 KiB bases held ~64 MiB, which a daemon's RSS showed as growth over hundreds of push cycles.
 */
export function ownMemory(buffer: Buffer): Buffer {
  if (buffer.byteLength === buffer.buffer.byteLength) return buffer;
  const own = Buffer.allocUnsafeSlow(buffer.byteLength);
  buffer.copy(own);
  return own;
}

// Delta bases lately read, of all packs together (bounded in total, however many packs there are).
const RECENT_BASES_BYTES = 1 << 20;
const recentBases = new Map<string, Buffer>();
let recentBytes = 0;

/** The kept delta bases: their bytes, and the memory they hold (each distinct ArrayBuffer once). */
export function keptBases(): { bytes: number; memory: number } {
  const memory = [...new Set([...recentBases.values()].map((b) => b.buffer))].reduce((sum, ab) => sum + ab.byteLength, 0);
  return { bytes: recentBytes, memory };
}

/**
 * A pack on disk, found through its version-2 index. Of the index only the fan-out and the first 4 bytes of each
 * name are held (4 bytes an object: 7 MB for a year of history's 1.8M objects, whose index is 51 MB); a name and an
 * offset are read from the file when an object is looked up, from the page cache once it is warm.
 */
export class IndexedPack {
  private readonly reader: PackFileReader;
  private readonly idx: PackFileReader;
  private readonly idxFile: string;
  private readonly fanout: Uint32Array;
  /** Each name's first 4 bytes as a number, in name order: a lookup reads one name, a miss almost never one. */
  private readonly prefixes: Uint32Array;
  private readonly count: number;
  private readonly packSize: number;

  private constructor(packFile: string, idxFile: string, fanout: Uint32Array, prefixes: Uint32Array, packSize: number) {
    this.reader = new PackFileReader(packFile);
    this.idx = new PackFileReader(idxFile, { windowBytes: IDX_WINDOW_BYTES });
    this.idxFile = idxFile;
    this.fanout = fanout;
    this.prefixes = prefixes;
    this.count = fanout[255];
    this.packSize = packSize;
  }

  /** The pack of an index file, or undefined when either is missing, the index is not version 2 or is cut short. */
  static open(idxFile: string): IndexedPack | undefined {
    const packFile = idxFile.replace(/\.idx$/, '.pack');
    if (!existsSync(packFile)) return undefined;
    const fd = openSync(idxFile, 'r');
    try {
      const header = Buffer.alloc(NAMES);
      if (readSync(fd, header, 0, NAMES, 0) < NAMES || header.readUInt32BE(0) !== IDX_SIGNATURE || header.readUInt32BE(4) !== 2) return undefined;
      const fanout = new Uint32Array(256);
      for (let i = 0; i < 256; i++) fanout[i] = header.readUInt32BE(8 + i * 4);
      const count = fanout[255];
      if (fstatSync(fd).size < NAMES + count * 28 + 40) return undefined;
      // The names a part at a time (a whole 36 MB of them would be pages to fault in, then garbage).
      const prefixes = new Uint32Array(count);
      const part = Buffer.allocUnsafeSlow(20 * 16384);
      for (let i = 0; i < count;) {
        const n = Math.min(16384, count - i);
        readSync(fd, part, 0, n * 20, NAMES + i * 20);
        for (let j = 0; j < n; j++) prefixes[i + j] = part.readUInt32BE(j * 20);
        i += n;
      }
      return new IndexedPack(packFile, idxFile, fanout, prefixes, statSync(packFile).size);
    } finally {
      closeSync(fd);
    }
  }

  get objectCount(): number {
    return this.count;
  }

  /**
   * Whether the index is whole (its size and checksum) and names this pack file (the pack's trailing checksum):
   * an index written in place and cut short by a kill, or a pack cut short, must not be copied from.
   */
  verify(): boolean {
    const idx = readFileSync(this.idxFile);
    const offsets = NAMES + this.count * 24;
    if (idx.length < offsets + this.count * 4 + 40) return false;
    let large = 0;
    for (let i = 0; i < this.count; i++) if (idx[offsets + i * 4] & 0x80) large++;
    if (idx.length !== offsets + this.count * 4 + large * 8 + 40) return false;
    const body = idx.subarray(0, idx.length - 20);
    if (!createHash('sha1').update(body).digest().equals(idx.subarray(idx.length - 20))) return false;
    const trailer = this.reader.trailer(this.packSize);
    return trailer !== undefined && trailer.equals(idx.subarray(idx.length - 40, idx.length - 20));
  }

  /**
   * Every object of the pack in file order (bases before their deltas, so the recent bases serve them). One stored
   * whole comes as its packed bytes (`raw`, valid until the next step), checked against the CRC-32 the index holds
   * for it instead of inflated: merging packs copies those bytes as they are, as git's repack reuses objects. A delta
   * comes as its type and whole content. Throws when an object cannot be read or does not match its CRC.
   */
  *packed(): Generator<{ oid: string; raw: Buffer; crc: number } | { oid: string; type: StoredType; content: Buffer }> {
    // A merge reads every object: the index whole for this pass, not kept.
    const idx = readFileSync(this.idxFile);
    const crcs = NAMES + this.count * 20;
    const offsets = Array.from({ length: this.count }, (_, i) => offsetIn(idx, this.count, i));
    const order = Array.from({ length: this.count }, (_, i) => i).sort((a, b) => offsets[a] - offsets[b]);
    for (let k = 0; k < order.length; k++) {
      const i = order[k];
      const oid = idx.toString('hex', NAMES + i * 20, NAMES + i * 20 + 20);
      const start = offsets[i];
      // An object ends where the next one starts (in file order), the last one at the pack's 20-byte checksum.
      const raw = this.reader.raw(start, k + 1 < order.length ? offsets[order[k + 1]] : this.packSize - 20);
      const typeCode = raw && (raw[0] >> 4) & 7;
      if (raw && typeCode !== undefined && typeCode >= 1 && typeCode <= 4) {
        const crc = crc32(raw);
        if (crc !== idx.readUInt32BE(crcs + i * 4)) throw new Error(`pack ${this.reader.file}: object ${oid} does not match its CRC`);
        yield { oid, raw, crc };
        continue;
      }
      const type = this.typeAt(start);
      const content = type && this.objectAt(start, false);
      if (!type || !content) throw new Error(`pack ${this.reader.file}: object ${oid} cannot be read`);
      yield { oid, type, content };
    }
  }

  // A delta's type is at the end of its chain of bases; a chain longer than the pack is a corrupt pack.
  private typeAt(start: number): StoredType | undefined {
    for (let offset: number | undefined = start, depth = 0; offset !== undefined && depth <= this.count; depth++) {
      const entry = this.reader.base(offset, Math.min(offset + 32, this.packSize - 20));
      if (!entry) return undefined;
      if (entry.typeCode >= 1 && entry.typeCode <= 4) return TYPE_NAMES[entry.typeCode];
      const i = entry.baseId ? this.find(entry.baseId) : 0;
      offset = entry.baseId ? (i < 0 ? undefined : this.offset(i)) : entry.baseOffset;
    }
    return undefined;
  }

  /** Whether the object is in this pack (stored whole or as a delta). */
  has(id: Buffer): boolean {
    return this.find(id) >= 0;
  }

  /** An object's content by its 20-byte id; undefined when it is not in this pack (or a delta's base is not). */
  read(id: Buffer): Buffer | undefined {
    const i = this.find(id);
    const start = i < 0 ? undefined : this.offset(i);
    return start === undefined ? undefined : this.objectAt(start, false);
  }

  // Bases within the pack (git never writes thin packs to disk). A chain is read base first each time; the last
  // few bases are kept (recentBases), since objects next to each other in a pack are often deltas of one base.
  private readonly bases: DeltaBases = {
    atOffset: (offset) => this.objectAt(offset, true),
    byId: (id) => {
      const i = this.find(id);
      const start = i < 0 ? undefined : this.offset(i);
      return start === undefined ? undefined : this.objectAt(start, true);
    },
  };
  private objectAt(start: number, asBase: boolean): Buffer | undefined {
    const key = `${start} ${this.reader.file}`;
    const cached = recentBases.get(key);
    if (cached) return cached;
    // Bounded by the pack's data: the object's header says how much of it is the object's.
    const content = this.reader.object(start, this.packSize - 20, this.bases);
    if (asBase && content && content.length <= RECENT_BASES_BYTES / 4) {
      recentBases.set(key, ownMemory(content));
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
    this.idx.close();
  }

  // Names are sorted; the fan-out table says where those starting with each byte end, the held prefixes which one
  // to read (more than one only when names share their first 4 bytes: rare below billions of objects).
  private find(oid: Buffer): number {
    const first = oid[0];
    let lo = first === 0 ? 0 : this.fanout[first - 1];
    let hi = this.fanout[first];
    const prefix = oid.readUInt32BE(0);
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.prefixes[mid] < prefix) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < this.count && this.prefixes[i] === prefix; i++) {
      const name = this.idx.raw(NAMES + i * 20, NAMES + i * 20 + 20);
      if (!name) return -1; // the index is gone (a repack replaced it): the caller lists the packs again
      const c = Buffer.compare(name, oid);
      if (c === 0) return i;
      if (c > 0) return -1;
    }
    return -1;
  }

  /** Where object `i` (in name order) starts; undefined when the index is gone. */
  private offset(i: number): number | undefined {
    const at = NAMES + this.count * 24 + i * 4; // after the names (20 bytes each) and CRCs (4 each)
    const o = this.idx.raw(at, at + 4)?.readUInt32BE(0);
    if (o === undefined || !(o & 0x80000000)) return o;
    const large = NAMES + this.count * 28 + (o & 0x7fffffff) * 8; // packs over 2 GiB
    const bytes = this.idx.raw(large, large + 8);
    return bytes && Number(bytes.readBigUInt64BE(0));
  }
}

/** Where object `i` starts, from a whole version-2 index of `count` objects. */
function offsetIn(idx: Buffer, count: number, i: number): number {
  const offsets = NAMES + count * 24;
  const o = idx.readUInt32BE(offsets + i * 4);
  if (!(o & 0x80000000)) return o;
  return Number(idx.readBigUInt64BE(offsets + count * 4 + (o & 0x7fffffff) * 8));
}
