// The history index's paths, interned from their UTF-8 bytes as the index file holds them: loading a year of history
// (~640k changes of ~100k paths) made a string per change and hashed it into a Map, which with the garbage it left
// was most of the load's time. Here a change's path is hashed and compared where it lies in the file's bytes, and a
// path becomes a string only when an answer names it.
import { U32List } from './growable.ts';

const EMPTY = 0; // a slot holds a path id + 1

/** FNV-1a over bytes: cheap, and spreads the long common prefixes of kubetrail's paths well. */
function hash(bytes: Uint8Array, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ bytes[i], 0x01000193);
  return h >>> 0;
}

export class PathTable {
  // Grown in place (see growable.ts).
  private readonly buffer = new ArrayBuffer(64 << 10, { maxByteLength: 2 ** 30 }); // ~15M paths
  private readonly bytes = new Uint8Array(this.buffer);
  private used = 0;
  private readonly starts = new U32List(); // path id → where its bytes start; they end where the next id's start
  private readonly hashes = new U32List();
  private slots = new Uint32Array(1 << 12);

  get size(): number {
    return this.starts.length;
  }

  /** The id of the path in `buf` at [start, end), added when new. */
  intern(buf: Uint8Array, start: number, end: number): number {
    const h = hash(buf, start, end);
    const slot = this.find(buf, start, end, h);
    if (this.slots[slot] !== EMPTY) return this.slots[slot] - 1;
    const id = this.size;
    this.append(buf, start, end);
    this.hashes.push(h);
    this.slots[slot] = id + 1;
    if (this.size * 2 > this.slots.length) this.rehash();
    return id;
  }

  /** The id of a path, or undefined when it was never interned. */
  id(path: string): number | undefined {
    const buf = Buffer.from(path);
    const slot = this.find(buf, 0, buf.length, hash(buf, 0, buf.length));
    return this.slots[slot] === EMPTY ? undefined : this.slots[slot] - 1;
  }

  path(id: number): string {
    const start = this.starts.get(id);
    return Buffer.from(this.buffer, start, this.end(id) - start).toString('utf8');
  }

  /** Whether path `id` starts with `prefix` (compared as bytes: no string made). */
  startsWith(id: number, prefix: Uint8Array): boolean {
    const start = this.starts.get(id);
    if (this.end(id) - start < prefix.length) return false;
    for (let i = 0; i < prefix.length; i++) if (this.bytes[start + i] !== prefix[i]) return false;
    return true;
  }

  /** Gives back the room grown for. */
  trim(): void {
    this.buffer.resize(Math.max(this.used, 16));
    this.starts.trim();
    this.hashes.trim();
  }

  private end(id: number): number {
    return id + 1 < this.size ? this.starts.get(id + 1) : this.used;
  }

  // Open addressing with linear probing: the slot holding this path, or the empty slot where it would go.
  private find(buf: Uint8Array, start: number, end: number, h: number): number {
    const mask = this.slots.length - 1;
    const length = end - start;
    for (let slot = h & mask; ; slot = (slot + 1) & mask) {
      const held = this.slots[slot];
      if (held === EMPTY) return slot;
      const id = held - 1;
      if (this.hashes.get(id) !== h) continue;
      const at = this.starts.get(id);
      if (this.end(id) - at !== length) continue;
      let i = 0;
      while (i < length && this.bytes[at + i] === buf[start + i]) i++;
      if (i === length) return slot;
    }
  }

  private append(buf: Uint8Array, start: number, end: number): void {
    const length = end - start;
    if (this.used + length > this.bytes.length) this.buffer.resize(Math.max(this.bytes.length * 2, this.used + length));
    for (let i = 0; i < length; i++) this.bytes[this.used + i] = buf[start + i];
    this.starts.push(this.used);
    this.used += length;
  }

  private rehash(): void {
    this.slots = new Uint32Array(this.slots.length * 2);
    const mask = this.slots.length - 1;
    for (let id = 0; id < this.size; id++) {
      let slot = this.hashes.get(id) & mask;
      while (this.slots[slot] !== EMPTY) slot = (slot + 1) & mask;
      this.slots[slot] = id + 1;
    }
  }
}
