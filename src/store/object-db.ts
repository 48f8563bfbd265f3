// The object database as kubetrail uses it: loose files and packs behind one interface. Reads go to a pack this
// process just wrote, any other pack (one object at a time), or a loose file; only what those cannot read (an
// object stored as a delta, as fetched packs hold them) goes to isomorphic-git, which loads a whole pack.
// Writes go through ObjectWriter (loose) or an ObjectBatch (loose when few, one pack when many).
import fs from 'node:fs';
import { join } from 'node:path';
import git from 'isomorphic-git';
import { readLooseObject, ObjectWriter } from './loose.ts';
import { ObjectBatch, type WrittenPack } from './pack.ts';
import { IndexedPack } from './pack-reader.ts';

export class ObjectDatabase {
  readonly gitdir: string;
  readonly writer: ObjectWriter;
  /** isomorphic-git's pack cache, shared by its reads of this database. */
  readonly cache: object = {};
  private recentPacks: WrittenPack[] = [];
  /** The repository's packs by index file name (undefined: one isomorphic-git must read, e.g. an index v1). */
  private readonly packs = new Map<string, IndexedPack | undefined>();

  constructor(gitdir: string) {
    this.gitdir = gitdir;
    this.writer = new ObjectWriter(gitdir);
  }

  /** A batch for the new objects of one sync (loose when few, one pack when many). */
  batch(): ObjectBatch {
    this.writer.refresh();
    return new ObjectBatch(this.gitdir, this.writer, (pack) => {
      // Kept so the worktree update right after a first sync reads its 10k blobs directly.
      for (const old of this.recentPacks.slice(3)) old.close();
      this.recentPacks = [pack, ...this.recentPacks.slice(0, 3)];
    });
  }

  /**
   * Fetches objects by id from the remote of a partial clone (what its fetch left out, see fetch-pack.ts); set
   * while a run knows the remote. Without it a missing object is an error.
   */
  lazyFetch?: (oids: string[]) => Promise<void>;

  /** An object's content as stored (no header); throws when the object is missing. */
  async read(oid: string): Promise<Buffer> {
    let direct = this.readDirect(oid);
    if (!direct && this.lazyFetch && !this.has(oid)) {
      await this.lazyFetch([oid]);
      direct = this.readDirect(oid);
    }
    return direct ?? Buffer.from((await git.readObject({ fs, gitdir: this.gitdir, oid, format: 'content', cache: this.cache })).object as Uint8Array);
  }

  /** Fetches those of `oids` not here in one request, when this is a partial clone (see lazyFetch). */
  async prefetch(oids: Iterable<string>): Promise<void> {
    if (!this.lazyFetch) return;
    this.listPacks();
    const missing = [...new Set(oids)].filter((oid) => !this.has(oid, false));
    if (missing.length) await this.lazyFetch(missing);
  }

  /** Whether the object is here (whole or as a delta, packed or loose); `relist`: look for new packs when not. */
  has(oid: string, relist = true): boolean {
    const id = Buffer.from(oid, 'hex');
    const packed = () => [...this.packs.values()].some((pack) => pack?.has(id));
    return this.recentPacks.some((pack) => pack.has(oid)) || packed() ||
      fs.existsSync(join(this.gitdir, 'objects', oid.slice(0, 2), oid.slice(2))) || (relist && this.listPacks() && packed());
  }

  /** Undefined for an object stored as a delta, or missing. */
  private readDirect(oid: string): Buffer | undefined {
    for (const pack of this.recentPacks) {
      const content = pack.read(oid);
      if (content) return content;
    }
    return this.readPacked(oid) ?? this.readLoose(oid) ??
      // Packs come and go (a first sync, a fetch, packed loose objects, git gc): list them again once.
      (this.listPacks() ? this.readPacked(oid) : undefined);
  }

  private readPacked(oid: string): Buffer | undefined {
    const id = Buffer.from(oid, 'hex');
    for (const pack of this.packs.values()) {
      const content = pack?.read(id);
      if (content) return content;
    }
    return undefined;
  }

  private readLoose(oid: string): Buffer | undefined {
    return readLooseObject(join(this.gitdir, 'objects', oid.slice(0, 2), oid.slice(2)))?.content;
  }

  /** Updates the packs known from objects/pack; true when that changed anything. */
  private listPacks(): boolean {
    const dir = join(this.gitdir, 'objects', 'pack');
    const names = new Set(fs.existsSync(dir) ? fs.readdirSync(dir).filter((n) => n.endsWith('.idx')) : []);
    let changed = false;
    for (const [name, pack] of this.packs) {
      if (names.has(name)) continue;
      pack?.close();
      this.packs.delete(name);
      changed = true;
    }
    for (const name of names) {
      if (this.packs.has(name)) continue;
      this.packs.set(name, IndexedPack.open(join(dir, name)));
      changed = true;
    }
    return changed;
  }
}
