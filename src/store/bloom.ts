// Git's changed-path Bloom filters (bloom.c), bit for bit, so `git log -- <path>` can skip the commits that did not
// touch a path without diffing their trees: murmur3 with double hashing, 7 hashes, 10 bits per path.

/** What git 2.x writes by default (DEFAULT_BLOOM_FILTER_SETTINGS) and records in the BDAT header. */
export const BLOOM_SETTINGS = { hashVersion: 1, numHashes: 7, bitsPerEntry: 10, maxChangedPaths: 512 } as const;

const SEED0 = 0x293ae76f;
const SEED1 = 0x7e646e2c;

const rotl = (v: number, n: number) => ((v << n) | (v >>> (32 - n))) >>> 0;

/**
 * murmur3 (32 bit). Version 1 reproduces git's original bug: path bytes were read as (signed) `char`, so a byte
 * >= 0x80 is sign-extended before it is shifted into place; version 2 is the textbook hash.
 */
export function murmur3(seed: number, data: Uint8Array, version: 1 | 2 = 1): number {
  const byte = version === 1 ? (i: number) => (data[i] << 24 >> 24) >>> 0 : (i: number) => data[i];
  const c1 = 0xcc9e2d51;
  const c2 = 0x1b873593;
  let h = seed >>> 0;
  const len4 = data.length >>> 2;
  for (let i = 0; i < len4; i++) {
    let k = (byte(4 * i) | (byte(4 * i + 1) << 8) | (byte(4 * i + 2) << 16) | (byte(4 * i + 3) << 24)) >>> 0;
    k = Math.imul(k, c1);
    k = rotl(k, 15);
    k = Math.imul(k, c2);
    h ^= k;
    h = (Math.imul(rotl(h >>> 0, 13), 5) + 0xe6546b64) >>> 0;
  }
  const tail = len4 * 4;
  let k1 = 0;
  switch (data.length & 3) {
    case 3: k1 ^= byte(tail + 2) << 16; // falls through
    case 2: k1 ^= byte(tail + 1) << 8; // falls through
    case 1:
      k1 ^= byte(tail);
      k1 = Math.imul(k1 >>> 0, c1);
      k1 = rotl(k1 >>> 0, 15);
      k1 = Math.imul(k1, c2);
      h ^= k1;
  }
  h ^= data.length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The bit positions' hashes of one path (fill_bloom_key). */
export function bloomKey(path: Uint8Array, version: 1 | 2 = 1): number[] {
  const h0 = murmur3(SEED0, path, version);
  const h1 = murmur3(SEED1, path, version);
  return Array.from({ length: BLOOM_SETTINGS.numHashes }, (_, i) => (h0 + Math.imul(i, h1)) >>> 0);
}

/** Git's filter for a commit with more changed paths than it keeps: one byte, every bit set ("maybe" for all). */
export const TOO_LARGE_FILTER = Uint8Array.of(0xff);

/**
 * The filter of a commit's changed files (first-parent diff, `/`-separated byte paths): each file and each of its
 * leading directories is a key; none gives one zero byte; more than 512 keys (or files) give TOO_LARGE_FILTER.
 */
export function changedPathsFilter(files: Iterable<Uint8Array>, version: 1 | 2 = 1): Uint8Array {
  const keys = new Map<string, Uint8Array>();
  let fileCount = 0;
  for (const file of files) {
    if (++fileCount > BLOOM_SETTINGS.maxChangedPaths) return TOO_LARGE_FILTER;
    for (let end = file.length; end > 0; end = file.lastIndexOf(0x2f, end - 1)) {
      const path = file.subarray(0, end);
      const id = Buffer.from(path).toString('latin1');
      if (keys.has(id)) break; // its leading directories are in already
      keys.set(id, path);
    }
  }
  if (keys.size > BLOOM_SETTINGS.maxChangedPaths) return TOO_LARGE_FILTER;
  const filter = new Uint8Array(Math.max(1, Math.ceil(keys.size * BLOOM_SETTINGS.bitsPerEntry / 8)));
  const bits = filter.length * 8;
  for (const path of keys.values()) {
    for (const hash of bloomKey(path, version)) {
      const bit = hash % bits; // both below 2^32: exact as git's uint64 modulo
      filter[bit >>> 3] |= 1 << (bit & 7);
    }
  }
  return filter;
}
