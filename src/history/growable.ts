/** A growable array of 32-bit numbers: a year of history is ~1M changes, 4 bytes each instead of a JS array's 8. */
export class U32List {
  private data: Uint32Array;
  length = 0;
  constructor(capacity = 1024) {
    this.data = new Uint32Array(Math.max(16, capacity));
  }
  push(v: number): void {
    if (this.length === this.data.length) {
      const grown = new Uint32Array(this.data.length * 2);
      grown.set(this.data);
      this.data = grown;
    }
    this.data[this.length++] = v;
  }
  get(i: number): number {
    return this.data[i];
  }
  set(i: number, v: number): void {
    this.data[i] = v;
  }
  /** Gives back the room grown for (after a load: the next appends are few). */
  trim(): void {
    this.data = this.data.slice(0, Math.max(this.length, 16));
  }
}
