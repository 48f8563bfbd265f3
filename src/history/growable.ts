// Growable typed arrays for the history index. Backed by resizable ArrayBuffers, which V8 grows in place within a
// reserved range: no copy on growth and only the pages written are touched (page faults were a third of loading a
// year's index: growth by doubling plus a trimming copy touched ~3× the memory kept), and trimming gives the rest back.

/** Address space reserved per list (not memory: pages are committed as the list grows); moved past when full. */
const RESERVED = 2 ** 28;

function resizable(bytes: number, atLeast: number): ArrayBuffer {
  return new ArrayBuffer(bytes, { maxByteLength: Math.max(RESERVED, atLeast) });
}

/** Grows `buffer` to hold `bytes` (doubling), moving it only past its reserved range. */
function grow(buffer: ArrayBuffer, bytes: number): ArrayBuffer {
  const wanted = Math.max(bytes, buffer.byteLength * 2);
  if (wanted <= buffer.maxByteLength) {
    buffer.resize(wanted);
    return buffer;
  }
  const moved = resizable(wanted, wanted * 2);
  new Uint8Array(moved).set(new Uint8Array(buffer));
  return moved;
}

/** 32-bit numbers: a year of history is ~640k changes, 4 bytes each instead of a JS array's 8. */
export class U32List {
  private buffer: ArrayBuffer;
  private data: Uint32Array;
  length = 0;
  constructor(capacity = 1024) {
    this.buffer = resizable(4 * Math.max(16, capacity), 0);
    this.data = new Uint32Array(this.buffer); // length-tracking: follows the buffer's resizes
  }
  push(v: number): void {
    if (this.length === this.data.length) this.reserve(this.length + 1);
    this.data[this.length++] = v;
  }
  get(i: number): number {
    return this.data[i];
  }
  set(i: number, v: number): void {
    this.data[i] = v;
  }
  private reserve(count: number): void {
    const buffer = grow(this.buffer, count * 4);
    if (buffer !== this.buffer) this.data = new Uint32Array(this.buffer = buffer);
  }
  /** Gives back the room grown for (after a load: the next appends are few). */
  trim(): void {
    this.buffer.resize(4 * Math.max(this.length, 16));
  }
}

/** Records of `width` bytes (object ids, blob ids). */
export class ByteRecords {
  private buffer: ArrayBuffer;
  private data: Uint8Array;
  readonly width: number;
  length = 0;
  constructor(width: number, capacity = 1024) {
    this.width = width;
    this.buffer = resizable(width * Math.max(16, capacity), 0);
    this.data = new Uint8Array(this.buffer);
  }
  /** Appends the `width` bytes at `at` of `from`. */
  push(from: Uint8Array, at: number): void {
    const to = this.length * this.width;
    if (to + this.width > this.data.length) {
      const buffer = grow(this.buffer, to + this.width);
      if (buffer !== this.buffer) this.data = new Uint8Array(this.buffer = buffer);
    }
    for (let i = 0; i < this.width; i++) this.data[to + i] = from[at + i]; // faster than a copy call for 20 bytes
    this.length++;
  }
  /** Whether record `i` equals the `width` bytes at `at` of `other`. */
  equals(i: number, other: Uint8Array, at: number): boolean {
    const from = i * this.width;
    for (let k = 0; k < this.width; k++) if (this.data[from + k] !== other[at + k]) return false;
    return true;
  }
  isZero(i: number): boolean {
    const from = i * this.width;
    for (let k = 0; k < this.width; k++) if (this.data[from + k] !== 0) return false;
    return true;
  }
  hex(i: number): string {
    return Buffer.from(this.buffer, i * this.width, this.width).toString('hex');
  }
  /** A 32-bit number from the record's first 4 bytes (object ids are uniform: a hash as it is). */
  head(i: number): number {
    const at = i * this.width;
    return ((this.data[at] << 24) | (this.data[at + 1] << 16) | (this.data[at + 2] << 8) | this.data[at + 3]) >>> 0;
  }
  trim(): void {
    this.buffer.resize(this.width * Math.max(this.length, 16));
  }
}
