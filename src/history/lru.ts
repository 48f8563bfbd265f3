/** A bounded cache for immutable values (git objects by id): least recently used entries go first. */
export class Lru<K, V> {
  private readonly map = new Map<K, { value: V; weight: number }>();
  private total = 0;
  private readonly maxWeight: number;
  constructor(maxWeight: number) {
    this.maxWeight = maxWeight;
  }

  get(key: K): V | undefined {
    const hit = this.map.get(key);
    if (!hit) return undefined;
    this.map.delete(key);
    this.map.set(key, hit);
    return hit.value;
  }

  set(key: K, value: V, weight = 1): void {
    const old = this.map.get(key);
    if (old) this.total -= old.weight;
    this.map.delete(key);
    if (weight > this.maxWeight) return; // would evict everything and then itself: not kept
    this.map.set(key, { value, weight });
    this.total += weight;
    for (const [k, v] of this.map) {
      if (this.total <= this.maxWeight) break;
      this.map.delete(k);
      this.total -= v.weight;
    }
  }

  get size(): number {
    return this.map.size;
  }
}

/** Roughly the memory a JSON-like value holds (V8: ~16 bytes a string header, ~32 an object, ~8 a number). */
export function approxBytes(value: unknown): number {
  if (typeof value === 'string') return 16 + value.length;
  if (value === null || typeof value !== 'object') return 8;
  let bytes = 32;
  if (Array.isArray(value)) for (const item of value) bytes += 8 + approxBytes(item);
  else for (const [k, v] of Object.entries(value)) bytes += 24 + k.length + approxBytes(v);
  return bytes;
}
