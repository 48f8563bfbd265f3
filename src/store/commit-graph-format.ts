// Git's commit-graph file (Documentation/gitformat-commit-graph.txt), encoded and parsed as pure bytes: one layer
// of a commit-graph chain with its commits' trees, parents, dates, generation numbers and changed-path filters.
import { createHash } from 'node:crypto';
import { BLOOM_SETTINGS } from './bloom.ts';

const HASH_LEN = 20; // SHA-1 repositories only (hash version 1)
const PARENT_NONE = 0x70000000;
const EXTRA_EDGES = 0x80000000;
const LAST_EDGE = 0x80000000;
const LEVEL_MAX = 0x3fffffff; // GENERATION_NUMBER_V1_MAX
const OFFSET_MAX = 0x7fffffff; // GENERATION_NUMBER_V2_OFFSET_MAX
const BDAT_HEADER = 12;

/** One commit of a layer as written: parents are positions in the whole chain (base layers first). */
export interface LayerRow {
  oid: Buffer;
  tree: Buffer;
  parents: number[];
  /** Committer time, seconds. */
  date: number;
  /** Topological level: 1 for a root, else 1 + the highest of its parents'. */
  level: number;
  /** Corrected commit date: max(date, each parent's corrected date + 1). */
  corrected: number;
  filter: Uint8Array;
}

const be32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
};

/**
 * A layer's bytes, checksum included. `rows` sorted by oid; `baseHashes` the checksums of the layers below it,
 * bottom first; `generationData` writes GDA2 (only when every layer below has it: git ignores it otherwise).
 */
export function encodeLayer(rows: LayerRow[], baseHashes: Buffer[], generationData: boolean): Buffer {
  const fanout = Buffer.alloc(256 * 4);
  const counts = new Array<number>(256).fill(0);
  for (const r of rows) counts[r.oid[0]]++;
  for (let i = 0, sum = 0; i < 256; i++) fanout.writeUInt32BE((sum += counts[i]), 4 * i);

  const edges: number[] = [];
  const cdat = Buffer.alloc(rows.length * (HASH_LEN + 16));
  const gda2 = Buffer.alloc(rows.length * 4);
  const overflows: number[] = [];
  const bidx = Buffer.alloc(rows.length * 4);
  const filters: Uint8Array[] = [];
  let filterBytes = 0;
  rows.forEach((r, i) => {
    const at = i * (HASH_LEN + 16);
    r.tree.copy(cdat, at);
    const [first, second, ...more] = r.parents;
    cdat.writeUInt32BE(first ?? PARENT_NONE, at + 20);
    if (more.length) {
      cdat.writeUInt32BE((EXTRA_EDGES | edges.length) >>> 0, at + 24);
      edges.push(second, ...more.slice(0, -1), (more[more.length - 1] | LAST_EDGE) >>> 0);
    } else cdat.writeUInt32BE(second ?? PARENT_NONE, at + 24);
    cdat.writeUInt32BE(((Math.min(r.level, LEVEL_MAX) << 2) | (Math.floor(r.date / 2 ** 32) & 3)) >>> 0, at + 28);
    cdat.writeUInt32BE(r.date % 2 ** 32, at + 32);
    const offset = r.corrected - r.date;
    if (offset > OFFSET_MAX) {
      gda2.writeUInt32BE((EXTRA_EDGES | overflows.length) >>> 0, 4 * i);
      overflows.push(offset);
    } else gda2.writeUInt32BE(offset, 4 * i);
    filterBytes += r.filter.length;
    bidx.writeUInt32BE(filterBytes, 4 * i);
    filters.push(r.filter);
  });
  const gdo2 = Buffer.alloc(overflows.length * 8);
  overflows.forEach((o, i) => gdo2.writeBigUInt64BE(BigInt(o), 8 * i));
  const bdatHeader = Buffer.concat([be32(BLOOM_SETTINGS.hashVersion), be32(BLOOM_SETTINGS.numHashes), be32(BLOOM_SETTINGS.bitsPerEntry)]);

  const chunks: [string, Buffer[]][] = [
    ['OIDF', [fanout]],
    ['OIDL', rows.map((r) => r.oid)],
    ['CDAT', [cdat]],
    ...(generationData ? [['GDA2', [gda2]] as [string, Buffer[]]] : []),
    ...(generationData && overflows.length ? [['GDO2', [gdo2]] as [string, Buffer[]]] : []),
    ...(edges.length ? [['EDGE', edges.map(be32)] as [string, Buffer[]]] : []),
    ['BIDX', [bidx]],
    ['BDAT', [bdatHeader, ...filters.map((f) => Buffer.from(f.buffer, f.byteOffset, f.length))]],
    ...(baseHashes.length ? [['BASE', baseHashes] as [string, Buffer[]]] : []),
  ];
  const header = Buffer.from([0x43, 0x47, 0x50, 0x48, 1, 1, chunks.length, baseHashes.length]);
  const table = Buffer.alloc((chunks.length + 1) * 12);
  let offset = header.length + table.length;
  chunks.forEach(([id, parts], i) => {
    table.write(id, 12 * i, 'latin1');
    table.writeBigUInt64BE(BigInt(offset), 12 * i + 4);
    offset += parts.reduce((n, p) => n + p.length, 0);
  });
  table.writeBigUInt64BE(BigInt(offset), 12 * chunks.length + 4);
  const body = Buffer.concat([header, table, ...chunks.flatMap(([, parts]) => parts)]);
  return Buffer.concat([body, createHash('sha1').update(body).digest()]);
}

/** A layer that is not a commit-graph file kubetrail can read: the chain is rebuilt from there up. */
export class InvalidGraphError extends Error {}

/** One parsed layer; positions are the whole chain's (this layer's first commit is `numInBase`). */
export class GraphLayer {
  readonly bytes: Buffer;
  readonly count: number;
  readonly baseCount: number;
  readonly hasGenerationData: boolean;
  /** Whether its changed-path filters are git's default ones, so they can be copied into a merged layer. */
  readonly hasOurFilters: boolean;
  /** How many commits the layers below hold. */
  readonly numInBase: number;
  private readonly chunk: Map<string, Buffer>;

  constructor(bytes: Buffer, numInBase = 0) {
    this.bytes = bytes;
    this.numInBase = numInBase;
    const fail = (why: string): never => { throw new InvalidGraphError(`commit-graph layer: ${why}`); };
    if (bytes.length < 8 + 12 + HASH_LEN || bytes.toString('latin1', 0, 4) !== 'CGPH') fail('no CGPH signature');
    if (bytes[4] !== 1 || bytes[5] !== 1) fail(`version ${bytes[4]} / hash version ${bytes[5]}`);
    const chunkCount = bytes[6];
    this.baseCount = bytes[7];
    const end = bytes.length - HASH_LEN;
    if (8 + (chunkCount + 1) * 12 > end) fail('truncated chunk table');
    this.chunk = new Map();
    for (let i = 0; i < chunkCount; i++) {
      const at = 8 + 12 * i;
      const start = Number(bytes.readBigUInt64BE(at + 4));
      const next = Number(bytes.readBigUInt64BE(at + 16));
      if (start > next || next > end) fail('chunk out of bounds');
      this.chunk.set(bytes.toString('latin1', at, at + 4), bytes.subarray(start, next));
    }
    const fanout = this.chunk.get('OIDF');
    if (fanout?.length !== 1024) fail('no OID fanout');
    this.count = fanout!.readUInt32BE(1020);
    if (this.chunk.get('OIDL')?.length !== this.count * HASH_LEN) fail('OID lookup of the wrong size');
    if (this.chunk.get('CDAT')?.length !== this.count * (HASH_LEN + 16)) fail('commit data of the wrong size');
    if ((this.chunk.get('BASE')?.length ?? 0) !== this.baseCount * HASH_LEN) fail('base list of the wrong size');
    this.hasGenerationData = this.chunk.get('GDA2')?.length === this.count * 4;
    const bdat = this.chunk.get('BDAT');
    const bidx = this.chunk.get('BIDX');
    this.hasOurFilters = !!bdat && bdat.length >= BDAT_HEADER && bidx?.length === this.count * 4 &&
      bdat.readUInt32BE(0) === BLOOM_SETTINGS.hashVersion && bdat.readUInt32BE(4) === BLOOM_SETTINGS.numHashes &&
      bdat.readUInt32BE(8) === BLOOM_SETTINGS.bitsPerEntry && (this.count === 0 || bidx.readUInt32BE(4 * this.count - 4) <= bdat.length - BDAT_HEADER);
  }

  /** The trailing checksum, which names the file (graph-<hash>.graph). */
  get hash(): string {
    return this.bytes.toString('hex', this.bytes.length - HASH_LEN);
  }

  checksumMatches(): boolean {
    const body = this.bytes.subarray(0, this.bytes.length - HASH_LEN);
    return createHash('sha1').update(body).digest('hex') === this.hash;
  }

  /** The checksums of the layers below, bottom first, as this layer records them. */
  baseHashes(): string[] {
    const base = this.chunk.get('BASE');
    return Array.from({ length: this.baseCount }, (_, i) => base!.toString('hex', i * HASH_LEN, (i + 1) * HASH_LEN));
  }

  oid(i: number): Buffer {
    return this.chunk.get('OIDL')!.subarray(i * HASH_LEN, (i + 1) * HASH_LEN);
  }

  /** Index of `oid` in this layer, or -1. */
  find(oid: Buffer): number {
    const fanout = this.chunk.get('OIDF')!;
    let lo = oid[0] ? fanout.readUInt32BE(4 * (oid[0] - 1)) : 0;
    let hi = fanout.readUInt32BE(4 * oid[0]);
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const c = this.oid(mid).compare(oid);
      if (c === 0) return mid;
      if (c < 0) lo = mid + 1;
      else hi = mid;
    }
    return -1;
  }

  private cdat(i: number): Buffer {
    return this.chunk.get('CDAT')!.subarray(i * (HASH_LEN + 16), (i + 1) * (HASH_LEN + 16));
  }

  tree(i: number): Buffer {
    return this.cdat(i).subarray(0, HASH_LEN);
  }

  /** Parent positions in the whole chain. */
  parents(i: number): number[] {
    const d = this.cdat(i);
    const first = d.readUInt32BE(20);
    const second = d.readUInt32BE(24);
    if (first === PARENT_NONE) return [];
    if (second === PARENT_NONE) return [first];
    if (!(second & EXTRA_EDGES)) return [first, second];
    const edges = this.chunk.get('EDGE');
    const parents = [first];
    for (let at = (second & ~EXTRA_EDGES) * 4; ; at += 4) {
      if (!edges || at + 4 > edges.length) throw new InvalidGraphError('commit-graph layer: extra edge out of bounds');
      const p = edges.readUInt32BE(at);
      parents.push((p & ~LAST_EDGE) >>> 0);
      if (p & LAST_EDGE) return parents;
    }
  }

  date(i: number): number {
    const d = this.cdat(i);
    return (d.readUInt32BE(28) & 3) * 2 ** 32 + d.readUInt32BE(32);
  }

  level(i: number): number {
    return this.cdat(i).readUInt32BE(28) >>> 2;
  }

  /** Corrected commit date, when the layer has generation data. */
  corrected(i: number): number | undefined {
    if (!this.hasGenerationData) return undefined;
    const offset = this.chunk.get('GDA2')!.readUInt32BE(4 * i);
    if (!(offset & EXTRA_EDGES)) return this.date(i) + offset;
    const gdo2 = this.chunk.get('GDO2');
    const at = (offset & ~EXTRA_EDGES) * 8;
    if (!gdo2 || at + 8 > gdo2.length) throw new InvalidGraphError('commit-graph layer: generation overflow out of bounds');
    return this.date(i) + Number(gdo2.readBigUInt64BE(at));
  }

  /** The commit's changed-path filter, when the layer has git's default ones. */
  filter(i: number): Uint8Array | undefined {
    if (!this.hasOurFilters) return undefined;
    const bidx = this.chunk.get('BIDX')!;
    const start = i ? bidx.readUInt32BE(4 * i - 4) : 0;
    const end = bidx.readUInt32BE(4 * i);
    if (start > end) throw new InvalidGraphError('commit-graph layer: Bloom index out of order');
    return this.chunk.get('BDAT')!.subarray(BDAT_HEADER + start, BDAT_HEADER + end);
  }
}
