// A git repository as kubetrail uses it: read trees, write trees bottom-up from `path → blob id`, commit, and
// move the branch last, in the order git keeps: objects durable, then the checkout marker, then the ref (lock,
// fsync, rename, fsync), then the working tree; so a crash at any point leaves a valid repository that the next
// run completes.
import fs from 'node:fs';
import { mkdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import git from 'isomorphic-git';
import { atomicWrite, fsyncDir, updateLocked } from './atomic-write.ts';
import { failpoint } from './failpoint.ts';
import { encodeCommit, encodeTree, parseCommit, parseTree, parseTreeRaw, readLooseObject, ObjectWriter, type Signature, type TreeEntry } from './objects.ts';
import { ObjectBatch, type WrittenPack } from './pack.ts';
import { IndexedPack } from './pack-reader.ts';
import { applyChanges, changesFromIndex, changesOutside, checkIndexWritable, withIndexLocked, type HeldIndex, type WorktreeChange } from './worktree.ts';

import { compareFiles, type FileMap } from './files.ts';

export type { FileMap } from './files.ts';

export interface CommitInfo {
  oid: string;
  tree: string;
  parents: string[];
  message: string;
  author: { name: string; email: string; timestamp: number };
}

/** The checkout marker's line for content outside clusters/ that a moved branch brought (see moveBranch). */
const OUTSIDE = '/';

/** The branch is not where the caller saw it: someone else (another cluster's sync, a person's `git commit`) moved it. */
export class BranchMovedError extends Error {}

export class Repo {
  readonly dir: string;
  readonly gitdir: string;
  readonly bare: boolean;
  readonly branch: string;
  readonly writer: ObjectWriter;
  /** isomorphic-git's pack cache, shared by reads of one Repo. */
  readonly cache: object = {};

  private constructor(dir: string, gitdir: string, bare: boolean, branch: string) {
    this.dir = dir;
    this.gitdir = gitdir;
    this.bare = bare;
    this.branch = branch;
    this.writer = new ObjectWriter(gitdir);
  }

  /** Opens the repository at `dir`, creating it when missing (bare when asked). */
  static async open(dir: string, opts: { bare?: boolean; branch?: string } = {}): Promise<Repo> {
    const branch = opts.branch ?? 'main';
    const dotgit = join(dir, '.git');
    if (fs.existsSync(join(dotgit, 'HEAD'))) return new Repo(dir, dotgit, false, branch);
    if (fs.existsSync(join(dir, 'HEAD')) && fs.existsSync(join(dir, 'objects'))) return new Repo(dir, dir, true, branch);
    await mkdir(dir, { recursive: true });
    await git.init({ fs, dir, gitdir: opts.bare ? dir : dotgit, bare: opts.bare, defaultBranch: branch });
    return new Repo(dir, opts.bare ? dir : dotgit, opts.bare ?? false, branch);
  }

  get ref(): string {
    return `refs/heads/${this.branch}`;
  }

  async head(): Promise<string | undefined> {
    try {
      return await git.resolveRef({ fs, gitdir: this.gitdir, ref: this.ref });
    } catch {
      return undefined;
    }
  }

  async readCommit(oid: string): Promise<CommitInfo> {
    const own = this.readDirect(oid);
    if (own) return { oid, ...parseCommit(own) };
    const { commit } = await git.readCommit({ fs, gitdir: this.gitdir, oid, cache: this.cache });
    return { oid, tree: commit.tree, parents: commit.parent, message: commit.message, author: commit.author };
  }

  /** A batch for the new objects of one sync (loose when few, one pack when many). */
  objectBatch(): ObjectBatch {
    this.writer.refresh();
    return new ObjectBatch(this.gitdir, this.writer, (pack) => {
      // Kept so the worktree update right after a first sync reads its 10k blobs directly.
      for (const old of this.recentPacks.slice(3)) old.close();
      this.recentPacks = [pack, ...this.recentPacks.slice(0, 3)];
    });
  }

  private recentPacks: WrittenPack[] = [];
  /** The repository's packs by index file name (undefined: one isomorphic-git must read, e.g. an index v1). */
  private packs = new Map<string, IndexedPack | undefined>();

  /**
   * An object's content, read here: from a pack this process just wrote, any other pack (one object at a time), or
   * a loose file. Undefined for an object stored as a delta (fetched packs have them) or missing: isomorphic-git
   * reads those (it loads a whole pack, so only what it must).
   */
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

  async readTree(oid: string): Promise<{ mode: string; path: string; oid: string; type: string }[]> {
    const own = this.readDirect(oid);
    return own ? parseTree(own) : (await git.readTree({ fs, gitdir: this.gitdir, oid, cache: this.cache })).tree;
  }

  async readBlob(oid: string): Promise<Uint8Array> {
    return this.readDirect(oid) ?? (await git.readBlob({ fs, gitdir: this.gitdir, oid, cache: this.cache })).blob;
  }

  /** The id of the tree or blob at `path` inside `treeOid`, if any. */
  async entryAt(treeOid: string, path: string): Promise<string | undefined> {
    let oid: string | undefined = treeOid;
    for (const name of path.split('/').filter(Boolean)) {
      const entries = await this.readTree(oid!);
      oid = entries.find((e) => e.path === name)?.oid;
      if (!oid) return undefined;
    }
    return oid;
  }

  /** Every file under a tree, as `relative/path → blob id`. */
  async listFiles(treeOid: string | undefined, prefix = ''): Promise<FileMap> {
    const files: FileMap = new Map();
    const walk = async (oid: string, base: string): Promise<void> => {
      for (const e of await this.readTree(oid)) {
        const path = base ? `${base}/${e.path}` : e.path;
        if (e.type === 'tree') await walk(e.oid, path);
        else files.set(path, e.oid);
      }
    };
    if (treeOid) await walk(treeOid, prefix);
    return files;
  }

  /**
   * Writes the trees for a set of files bottom-up and returns the root tree id (undefined when empty). With
   * `base` (the tree the files were before, and which paths changed since), only directories above a changed
   * path are written; every other directory keeps its tree id from `base` and its files are not even grouped.
   * With `batch`, the trees go where the sync's blobs went (into its pack, for a first sync: one fsync instead
   * of one per tree).
   */
  async writeTreeFromFiles(
    files: FileMap, base?: { tree: string | undefined; changed: Iterable<string> }, batch?: ObjectBatch,
  ): Promise<string | undefined> {
    const dirty = new Set<string>(['']);
    const markParents = (path: string) => {
      for (let at = path.lastIndexOf('/'); at > 0 && !dirty.has(path.slice(0, at)); at = path.lastIndexOf('/', at - 1)) {
        dirty.add(path.slice(0, at));
      }
    };
    for (const path of base?.tree ? base.changed : files.keys()) markParents(path);
    const subdirs = new Map<string, Set<string>>(); // dirty directory → its dirty subdirectories' names
    for (const dir of dirty) {
      if (!dir) continue;
      const at = dir.lastIndexOf('/');
      const parent = at < 0 ? '' : dir.slice(0, at);
      let names = subdirs.get(parent);
      if (!names) subdirs.set(parent, names = new Set());
      names.add(dir.slice(at + 1));
    }
    const filesIn = new Map<string, TreeEntry[]>(); // dirty directory → the files directly in it
    for (const [path, oid] of files) {
      const at = path.lastIndexOf('/');
      const dir = at < 0 ? '' : path.slice(0, at);
      if (!dirty.has(dir)) continue;
      let entries = filesIn.get(dir);
      if (!entries) filesIn.set(dir, entries = []);
      entries.push({ mode: '100644', name: path.slice(at + 1), oid });
    }
    const write = async (dir: string, baseOid: string | undefined): Promise<string | undefined> => {
      const entries = [...filesIn.get(dir) ?? []];
      const changedSubdirs = subdirs.get(dir) ?? new Set<string>();
      const baseSubdirs = new Map((baseOid ? await this.readTree(baseOid) : []).filter((e) => e.type === 'tree').map((e) => [e.path, e.oid]));
      for (const [name, oid] of baseSubdirs) if (!changedSubdirs.has(name)) entries.push({ mode: '040000', name, oid });
      for (const name of changedSubdirs) {
        const oid = await write(dir ? `${dir}/${name}` : name, baseSubdirs.get(name));
        if (oid) entries.push({ mode: '040000', name, oid });
      }
      if (entries.length === 0) return undefined;
      return batch ? batch.write('tree', encodeTree(entries)) : this.writer.write('tree', encodeTree(entries));
    };
    return write('', base?.tree);
  }

  /**
   * Returns a new root tree equal to `rootTree` with the subtree at `path` replaced (or removed when undefined).
   * Every other entry keeps its mode and name bytes (submodules, symlinks, executables, names that are not UTF-8).
   */
  async replaceSubtree(rootTree: string | undefined, path: string, subtree: string | undefined): Promise<string> {
    const [name, ...rest] = path.split('/');
    const key = Buffer.from(name);
    const entries = rootTree ? parseTreeRaw(await this.readObjectContent(rootTree)) : [];
    const isName = (e: TreeEntry) => Buffer.compare(e.name as Buffer, key) === 0;
    const existing = entries.find((e) => isName(e) && (e.mode === '40000' || e.mode === '040000'));
    const child = rest.length === 0 ? subtree : await this.replaceSubtreeOrEmpty(existing?.oid, rest.join('/'), subtree);
    const kept = entries.filter((e) => !isName(e));
    if (child) kept.push({ mode: '40000', name: key, oid: child });
    return this.writer.write('tree', encodeTree(kept));
  }

  /** An object's content as stored (no parsing). */
  private async readObjectContent(oid: string): Promise<Buffer> {
    return this.readDirect(oid) ?? Buffer.from((await git.readObject({ fs, gitdir: this.gitdir, oid, format: 'content', cache: this.cache })).object as Uint8Array);
  }

  private async replaceSubtreeOrEmpty(tree: string | undefined, path: string, subtree: string | undefined) {
    const oid = await this.replaceSubtree(tree, path, subtree);
    return (await this.readTree(oid)).length === 0 ? undefined : oid;
  }

  private queue: Promise<unknown> = Promise.resolve();

  /** Runs `fn` after every earlier `exclusive` call of this process has finished (commits of parallel cluster syncs). */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => {});
    return run;
  }

  private get pendingMarker(): string {
    return join(this.gitdir, 'kubetrail-checkout-pending');
  }

  /** Prefixes this process marked and has not finished; any other line of the marker is a killed run's. */
  private readonly marked = new Set<string>();

  private async pendingPrefixes(): Promise<string[]> {
    return (await readFile(this.pendingMarker, 'utf8').catch(() => '')).split('\n').filter(Boolean);
  }

  /**
   * Records, durably, that the working tree under `prefix` is about to lag behind the branch. Call before the
   * branch moves: a run killed after the move is then always completed by the next one (`finishPendingCheckout`).
   */
  async beginCheckout(prefix: string): Promise<void> {
    if (this.bare) return;
    if (!this.heldIndex) checkIndexWritable(this); // an index kubetrail cannot update is refused before anything changes
    const pending = await this.pendingPrefixes();
    if (!pending.includes(prefix)) await atomicWrite(this.pendingMarker, [...pending, prefix, ''].join('\n'));
    this.marked.add(prefix);
  }

  private async endCheckout(prefix: string): Promise<void> {
    this.marked.delete(prefix);
    const rest = (await this.pendingPrefixes()).filter((p) => p !== prefix);
    if (rest.length > 0) await atomicWrite(this.pendingMarker, [...rest, ''].join('\n'));
    else await unlink(this.pendingMarker).catch(() => {});
  }

  /**
   * Makes the working tree and index under `prefix` go from `before` to `after` (paths relative to `prefix` →
   * blob ids), the branch having moved from the commit of `before` to that of `after` (see `beginCheckout`).
   * When a killed run's checkout is pending too, everything pending is brought to HEAD instead.
   */
  async syncWorktree(prefix: string, before: FileMap, after: FileMap): Promise<void> {
    if (this.bare) return;
    const pending = await this.pendingPrefixes();
    if (pending.some((p) => !this.marked.has(p))) return this.checkoutHead(new Set([...pending, prefix]));
    if (!pending.includes(prefix)) await this.beginCheckout(prefix);
    const { added, changed, deleted } = compareFiles(before, after);
    const changes: WorktreeChange[] = [];
    for (const path of [...added, ...changed]) changes.push({ path: `${prefix}/${path}`, oid: after.get(path) });
    for (const path of deleted) changes.push({ path: `${prefix}/${path}` });
    await this.holdingIndex((held) => applyChanges(this, held, changes));
    await this.whenIndexWritten(async () => {
      failpoint('checkout-done');
      await this.endCheckout(prefix);
    });
  }

  private heldIndex: HeldIndex | undefined;
  private afterIndexWritten: (() => Promise<void>)[] = [];

  /** Runs `fn` once the index held now is written (at once when none is held): the marker goes only then. */
  private async whenIndexWritten(fn: () => Promise<void>): Promise<void> {
    if (this.heldIndex) this.afterIndexWritten.push(fn);
    else await fn();
  }

  /**
   * Runs `fn` holding index.lock (taken here unless an outer call holds it): callers move the branch and update
   * the index inside one `holdingIndex`, as git does, so a person's `git commit` never sees one without the other.
   */
  async holdingIndex<T>(fn: (held: HeldIndex) => Promise<T>): Promise<T> {
    if (this.heldIndex) return fn(this.heldIndex);
    if (this.bare) return fn({ index: { version: 2, entries: new Map(), kept: [] }, changed: false, inOrder: true });
    this.afterIndexWritten = [];
    const result = await withIndexLocked(this, async (held) => {
      this.heldIndex = held;
      try {
        return await fn(held);
      } finally {
        this.heldIndex = undefined;
      }
    }).catch((e) => {
      this.afterIndexWritten = [];
      throw e;
    });
    const after = this.afterIndexWritten;
    this.afterIndexWritten = [];
    for (const f of after) await f();
    return result;
  }

  /** Completes the checkouts a killed run left pending (waits for this process's commits in progress). */
  finishPendingCheckout(): Promise<void> {
    return this.exclusive(async () => {
      const pending = await this.pendingPrefixes();
      if (pending.length > 0 && !this.bare) await this.checkoutHead(new Set(pending));
    });
  }

  /** Brings the working tree and index under each prefix to HEAD, comparing with what the index records. */
  private async checkoutHead(prefixes: Set<string>): Promise<void> {
    const head = await this.head();
    const tree = head ? (await this.readCommit(head)).tree : undefined;
    for (const prefix of prefixes) {
      if (prefix === OUTSIDE) {
        const target = await this.entriesOutside(head, 'clusters');
        await this.holdingIndex((held) => applyChanges(this, held, changesOutside(this.dir, held.index.entries, 'clusters', target)));
        continue;
      }
      const target = await this.listFiles(tree && await this.entryAt(tree, prefix), prefix);
      await this.holdingIndex((held) => applyChanges(this, held, changesFromIndex(this.dir, held.index.entries, prefix, target)));
    }
    await this.whenIndexWritten(async () => {
      this.marked.clear();
      await unlink(this.pendingMarker).catch(() => {});
    });
  }

  /**
   * Moves the branch from `expected` to `next` and brings the working tree under `prefix` along, marker first
   * (for a branch moved to commits made elsewhere: a fetched or replayed remote head).
   */
  async moveBranch(expected: string | undefined, next: string, prefix = 'clusters'): Promise<void> {
    const filesOf = async (commit: string | undefined) => {
      const tree = commit ? (await this.readCommit(commit)).tree : undefined;
      return this.listFiles(tree && await this.entryAt(tree, prefix));
    };
    // Content beside `prefix` changes too when the new head brings it (a fresh clone, a person's push).
    const [outsideBefore, outsideAfter] = [await this.entriesOutside(expected, prefix), await this.entriesOutside(next, prefix)];
    const outside: WorktreeChange[] = [];
    for (const [path, e] of outsideAfter) {
      const old = outsideBefore.get(path);
      if (old?.oid !== e.oid || old.mode !== e.mode) outside.push({ path, ...e, raw: true });
    }
    for (const path of outsideBefore.keys()) if (!outsideAfter.has(path)) outside.push({ path, raw: true });
    await this.holdingIndex(async () => {
      if (outside.length > 0) await this.beginCheckout(OUTSIDE);
      await this.beginCheckout(prefix);
      await this.updateBranch(expected, next);
      if (outside.length > 0 && !this.bare) {
        await this.holdingIndex((held) => applyChanges(this, held, outside));
        await this.whenIndexWritten(() => this.endCheckout(OUTSIDE));
      }
      await this.syncWorktree(prefix, await filesOf(expected), await filesOf(next));
    });
  }

  /**
   * Every entry of a commit outside `owned/` (top-level `owned` skipped), with its mode; submodules not entered.
   * Paths are the name bytes as latin1 strings: a person's names need not be UTF-8.
   */
  private async entriesOutside(commit: string | undefined, owned: string): Promise<Map<string, { oid: string; mode: string }>> {
    const entries = new Map<string, { oid: string; mode: string }>();
    const walk = async (oid: string, base: string): Promise<void> => {
      for (const e of parseTreeRaw(await this.readObjectContent(oid))) {
        const name = (e.name as Buffer).toString('latin1');
        const path = base ? `${base}/${name}` : name;
        if (!base && name === owned) continue;
        if (e.mode === '40000' || e.mode === '040000') await walk(e.oid, path);
        else entries.set(path, { oid: e.oid, mode: e.mode });
      }
    };
    if (commit) await walk((await this.readCommit(commit)).tree, '');
    return entries;
  }

  async writeCommit(c: { tree: string; parents: string[]; author: Signature; message: string }): Promise<string> {
    return this.writer.write('commit', encodeCommit({ ...c, committer: c.author }));
  }

  /**
   * Moves the branch from `expected` to `next` atomically: every object this Repo wrote is made durable first,
   * then the ref is locked exclusively (a git process holding it is waited for), compared, written, fsynced and
   * renamed. Throws BranchMovedError when the branch moved meanwhile, so no one else's commit is ever dropped.
   */
  async updateBranch(expected: string | undefined, next: string): Promise<void> {
    this.writer.sync();
    failpoint('before-ref');
    const refFile = join(this.gitdir, this.ref);
    if (!fs.existsSync(join(refFile, '..'))) {
      await mkdir(join(refFile, '..'), { recursive: true });
      fsyncDir(join(this.gitdir, 'refs'));
    }
    await updateLocked(refFile, async () => {
      const current = await this.head();
      if (current !== expected) {
        throw new BranchMovedError(`branch ${this.branch} moved from ${expected ?? 'nothing'} to ${current}; not overwriting`);
      }
      failpoint('ref-locked');
      return `${next}\n`;
    });
    failpoint('after-ref');
  }
}
