// Commit ids → positions on the indexed chain, without a string per commit: the ids are kept as 20 bytes each and
// found through an open-addressing table keyed by their first 4 bytes (uniform: a hash as they are).
import { ByteRecords } from './growable.ts';

export class OidPositions {
  readonly ids = new ByteRecords(20);
  private slots = new Uint32Array(1 << 12); // position + 1; 0: empty

  get size(): number {
    return this.ids.length;
  }

  /** Appends the id at `at` of `buf` as the next position. */
  push(buf: Uint8Array, at: number): void {
    this.ids.push(buf, at);
    if (this.size * 2 > this.slots.length) this.rehash(this.slots.length * 2);
    else this.place(this.size - 1);
  }

  /** The position of a 40-hex id, or undefined. */
  position(oid: string): number | undefined {
    if (!/^[0-9a-f]{40}$/.test(oid)) return undefined;
    const id = Buffer.from(oid, 'hex');
    const mask = this.slots.length - 1;
    for (let slot = id.readUInt32BE(0) & mask; this.slots[slot]; slot = (slot + 1) & mask) {
      if (this.ids.equals(this.slots[slot] - 1, id, 0)) return this.slots[slot] - 1;
    }
    return undefined;
  }

  oid(position: number): string {
    return this.ids.hex(position);
  }

  /** Forgets the positions from `length` on. */
  truncate(length: number): void {
    this.ids.length = Math.min(length, this.ids.length);
    this.rehash(this.slots.length);
  }

  trim(): void {
    this.ids.trim();
  }

  private place(position: number): void {
    const mask = this.slots.length - 1;
    let slot = this.ids.head(position) & mask;
    while (this.slots[slot]) slot = (slot + 1) & mask;
    this.slots[slot] = position + 1;
  }

  private rehash(slots: number): void {
    this.slots = new Uint32Array(slots);
    for (let p = 0; p < this.size; p++) this.place(p);
  }
}
