// Thousands of new objects at once (a first sync) go into one pack file, as git's own fetch and fast-import do,
// instead of one loose file each: on a real disk, creating 50k small files costs more than everything else a
// sync does. Objects are appended as they come (memory holds offsets, not data); `finish` writes the index and
// renames pack then index into place, so a run killed earlier leaves only a temp file that git ignores.
// Format: https://git-scm.com/docs/gitformat-pack (pack version 2 without deltas, index version 2).
import { createHash } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { fsyncDir, writeDurably } from './atomic-write.ts';
import { failpoint } from './failpoint.ts';
import { deflate, objectId, packEntryHeader, type ObjectType, type StoredType } from './codec.ts';
import { STALE_TEMP_MS, type ObjectWriter } from './loose.ts';
import { PackFileReader } from './pack-reader.ts';

const TMP_PREFIX = 'tmp_pack_kubetrail_';
const CHUNK_BYTES = 1 << 20;

interface PackEntry { offset: number; end: number; crc: number }

/** A pack this process wrote: its entries are known without reading the index (see pack-reader.ts). */
export class WrittenPack {
  readonly file: string;
  private readonly entries: Map<string, PackEntry>;
  private readonly reader: PackFileReader;
  constructor(file: string, entries: Map<string, PackEntry>) {
    this.file = file;
    this.entries = entries;
    this.reader = new PackFileReader(file);
  }

  has(oid: string): boolean {
    return this.entries.has(oid);
  }

  /** An object's content, or undefined when it is not in this pack. */
  read(oid: string): Buffer | undefined {
    const e = this.entries.get(oid);
    return e && this.reader.object(e.offset, e.end);
  }

  close(): void {
    this.reader.close();
  }
}

export class PackWriter {
  private readonly dir: string;
  private readonly tmp: string;
  private readonly fd: number;
  private readonly entries = new Map<string, PackEntry>();
  private offset = 12;
  // Entries are copied into one chunk that is written when full: a write call per object cost more than
  // deflating it, and keeping zlib's output buffers would pin 16 KiB of memory per entry.
  private readonly chunk = Buffer.allocUnsafe(CHUNK_BYTES);
  private chunkUsed = 0;

  constructor(gitdir: string) {
    this.dir = join(gitdir, 'objects', 'pack');
    if (!existsSync(this.dir)) {
      mkdirSync(this.dir, { recursive: true });
      fsyncDir(join(gitdir, 'objects'));
    }
    this.tmp = join(this.dir, `${TMP_PREFIX}${process.pid}_${Date.now()}_${Math.random().toString(36).slice(2, 8)}`);
    this.fd = openSync(this.tmp, 'w+'); // read back for the checksum
    writeSync(this.fd, Buffer.alloc(12)); // header, filled in by finish()
  }

  has(oid: string): boolean {
    return this.entries.has(oid);
  }

  add(type: StoredType, content: Uint8Array, oid: string): void {
    if (this.entries.has(oid)) return;
    const header = packEntryHeader(type, content.length);
    const data = deflate(content);
    this.append(oid, [header, data], crc32(data, crc32(header)));
  }

  /** An object as another pack stores it whole (header and compressed data) and the CRC-32 of those bytes. */
  addPacked(oid: string, raw: Buffer, crc: number): void {
    if (!this.entries.has(oid)) this.append(oid, [raw], crc);
  }

  private append(oid: string, parts: Buffer[], crc: number): void {
    const length = parts.reduce((sum, p) => sum + p.length, 0);
    this.entries.set(oid, { offset: this.offset, end: this.offset + length, crc });
    if (this.chunkUsed + length > CHUNK_BYTES) this.flush();
    if (length > CHUNK_BYTES) {
      let at = this.offset;
      for (const p of parts) {
        writeSync(this.fd, p, 0, p.length, at);
        at += p.length;
      }
    } else {
      for (const p of parts) this.chunkUsed += p.copy(this.chunk, this.chunkUsed);
    }
    this.offset += length;
  }

  private flush(): void {
    writeSync(this.fd, this.chunk, 0, this.chunkUsed, this.offset - this.chunkUsed);
    this.chunkUsed = 0;
  }

  /** Completes the pack and its index and moves both into place; returns undefined when nothing was added. */
  finish(): WrittenPack | undefined {
    if (this.entries.size === 0) {
      this.abort();
      return undefined;
    }
    this.flush();
    const header = Buffer.alloc(12);
    header.write('PACK', 0, 'latin1');
    header.writeUInt32BE(2, 4);
    header.writeUInt32BE(this.entries.size, 8);
    writeSync(this.fd, header, 0, 12, 0);
    const checksum = this.hashFile();
    writeSync(this.fd, checksum, 0, 20, this.offset);
    fsyncSync(this.fd);
    closeSync(this.fd);
    const name = `pack-${checksum.toString('hex')}`;
    const pack = join(this.dir, `${name}.pack`);
    // git only looks at packs that have an index, so the index goes last; both are written and durable before
    // either is renamed (core.fsync=pack), so only a kill between the two renames can leave a pack without its
    // index, which git ignores. The directory is synced after the renames: then a ref may name the objects,
    // and loose copies may go (maintenance.ts).
    writeDurably(`${this.tmp}.idx`, encodeIndex(this.entries, checksum));
    failpoint('pack-before-rename');
    renameSync(this.tmp, pack);
    failpoint('pack-between-renames');
    renameSync(`${this.tmp}.idx`, join(this.dir, `${name}.idx`));
    fsyncDir(this.dir);
    return new WrittenPack(pack, this.entries);
  }

  abort(): void {
    try {
      closeSync(this.fd);
    } catch { /* already closed */ }
    rmSync(this.tmp, { force: true });
    rmSync(`${this.tmp}.idx`, { force: true });
  }

  // The count in the header is known only now, so the checksum is computed over the file as written.
  private hashFile(): Buffer {
    const hash = createHash('sha1');
    const chunk = Buffer.alloc(1 << 20);
    for (let at = 0; at < this.offset;) {
      const n = readSync(this.fd, chunk, 0, Math.min(chunk.length, this.offset - at), at);
      hash.update(chunk.subarray(0, n));
      at += n;
    }
    return hash.digest();
  }
}


export function encodeIndex(entries: Map<string, PackEntry>, packChecksum: Buffer): Buffer {
  const oids = [...entries.keys()].sort();
  const fanout = Buffer.alloc(256 * 4);
  const counts = new Array<number>(256).fill(0);
  for (const oid of oids) counts[parseInt(oid.slice(0, 2), 16)]++;
  for (let i = 0, total = 0; i < 256; i++) fanout.writeUInt32BE(total += counts[i], i * 4);
  const names = Buffer.alloc(oids.length * 20);
  const crcs = Buffer.alloc(oids.length * 4);
  const offsets = Buffer.alloc(oids.length * 4);
  const large: number[] = [];
  oids.forEach((oid, i) => {
    const e = entries.get(oid)!;
    names.write(oid, i * 20, 'hex');
    crcs.writeUInt32BE(e.crc, i * 4);
    if (e.offset < 0x80000000) offsets.writeUInt32BE(e.offset, i * 4);
    else offsets.writeUInt32BE((0x80000000 | large.push(e.offset) - 1) >>> 0, i * 4);
  });
  const largeOffsets = Buffer.alloc(large.length * 8);
  large.forEach((o, i) => largeOffsets.writeBigUInt64BE(BigInt(o), i * 8));
  const body = Buffer.concat([Buffer.from([0xff, 0x74, 0x4f, 0x63, 0, 0, 0, 2]), fanout, names, crcs, offsets, largeOffsets, packChecksum]);
  return Buffer.concat([body, createHash('sha1').update(body).digest()]);
}

// A temp pack of another process is left over from a killed run (the repository lock keeps live writers out).
// So is a pack without its index, from a kill between the two renames of `finish` (git never reads it); only an
// old one goes: git's own fetch has one for a moment between its renames too.
function removeStaleTempPacks(gitdir: string): void {
  const dir = join(gitdir, 'objects', 'pack');
  const names = existsSync(dir) ? readdirSync(dir) : [];
  const present = new Set(names);
  for (const f of names) {
    if (f.startsWith(TMP_PREFIX) && !f.startsWith(`${TMP_PREFIX}${process.pid}_`)) rmSync(join(dir, f), { force: true });
    if (/^pack-[0-9a-f]{40}\.pack$/.test(f) && !present.has(f.replace(/\.pack$/, '.idx'))) {
      try {
        if (Date.now() - statSync(join(dir, f)).mtimeMs > STALE_TEMP_MS) rmSync(join(dir, f), { force: true });
      } catch { /* gone meanwhile */ }
    }
  }
}

/** Loose objects written before this many new ones in a batch; git's receive-pack uses the same limit (unpackLimit). */
const LOOSE_LIMIT = 100;

/**
 * The new blobs of one sync: a small change stays a few loose files, a large one (a first sync) becomes one pack.
 * `finish` before anything refers to the objects; `abort` (a no-op after finish) when the sync goes no further.
 */
export class ObjectBatch {
  private readonly gitdir: string;
  private readonly loose: ObjectWriter;
  private readonly onPack: (pack: WrittenPack) => void;
  private pack: PackWriter | undefined;
  private looseWritten = 0;

  constructor(gitdir: string, loose: ObjectWriter, onPack: (pack: WrittenPack) => void) {
    this.gitdir = gitdir;
    this.loose = loose;
    this.onPack = onPack;
    removeStaleTempPacks(gitdir);
  }

  /** Stores the object unless `known` says it is stored already; returns its id. `stats.written` counts writes. */
  write(type: ObjectType, content: Uint8Array, known?: (oid: string) => boolean, stats?: { written: number }): string {
    const oid = objectId(type, content);
    if (known?.(oid) || this.pack?.has(oid) || this.loose.has(oid)) return oid;
    if (this.looseWritten < LOOSE_LIMIT) {
      this.loose.writeLoose(type, content, oid);
      this.looseWritten++;
    } else {
      (this.pack ??= new PackWriter(this.gitdir)).add(type, content, oid);
    }
    if (stats) stats.written++;
    return oid;
  }

  finish(): void {
    const written = this.pack?.finish();
    this.pack = undefined;
    if (written) this.onPack(written);
  }

  abort(): void {
    this.pack?.abort();
    this.pack = undefined;
  }
}
