// A git repository as kubetrail uses it: read trees, write trees bottom-up from `path → blob id`, commit, and
// move the branch last, in the order git keeps: objects durable (object-db.ts), then the checkout marker
// (checkout.ts), then the ref (lock, fsync, rename, fsync), then the working tree; so a crash at any point
// leaves a valid repository that the next run completes.
import fs from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import git from 'isomorphic-git';
import { failpoint } from './failpoint.ts';
import { Checkout } from './checkout.ts';
import { ObjectDatabase } from './object-db.ts';
import { readRef, swapRef } from './refs.ts';
import { encodeCommit, encodeTree, parseCommit, parseTree, parseTreeRaw, type Signature, type TreeEntry } from './codec.ts';
import type { ObjectWriter } from './loose.ts';
import type { ObjectBatch } from './pack.ts';
import type { HeldIndex } from './worktree.ts';
import type { FileMap } from './files.ts';

export type { FileMap } from './files.ts';

export interface CommitInfo {
  oid: string;
  tree: string;
  parents: string[];
  message: string;
  author: { name: string; email: string; timestamp: number };
  committer: { name: string; email: string; timestamp: number };
}

export class Repo {
  readonly dir: string;
  readonly gitdir: string;
  readonly bare: boolean;
  readonly branch: string;
  /** Loose objects and packs. */
  readonly objects: ObjectDatabase;
  readonly writer: ObjectWriter;
  /** isomorphic-git's pack cache, shared by reads of one Repo. */
  readonly cache: object;
  /** Working tree, index and checkout marker. */
  readonly checkout: Checkout;

  private constructor(dir: string, gitdir: string, bare: boolean, branch: string) {
    this.dir = dir;
    this.gitdir = gitdir;
    this.bare = bare;
    this.branch = branch;
    this.objects = new ObjectDatabase(gitdir);
    this.writer = this.objects.writer;
    this.cache = this.objects.cache;
    this.checkout = new Checkout(this);
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

  head(): Promise<string | undefined> {
    return readRef(this.gitdir, this.ref);
  }

  async readCommit(oid: string): Promise<CommitInfo> {
    return { oid, ...parseCommit(await this.objects.read(oid)) };
  }

  /** A batch for the new objects of one sync (loose when few, one pack when many). */
  objectBatch(): ObjectBatch {
    return this.objects.batch();
  }

  async readTree(oid: string): Promise<{ mode: string; path: string; oid: string; type: string }[]> {
    return parseTree(await this.objects.read(oid));
  }

  async readBlob(oid: string): Promise<Uint8Array> {
    return this.objects.read(oid);
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
    const entries = rootTree ? parseTreeRaw(await this.objects.read(rootTree)) : [];
    const isName = (e: TreeEntry) => Buffer.compare(e.name as Buffer, key) === 0;
    const existing = entries.find((e) => isName(e) && (e.mode === '40000' || e.mode === '040000'));
    const child = rest.length === 0 ? subtree : await this.replaceSubtreeOrEmpty(existing?.oid, rest.join('/'), subtree);
    const kept = entries.filter((e) => !isName(e));
    if (child) kept.push({ mode: '40000', name: key, oid: child });
    return this.writer.write('tree', encodeTree(kept));
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

  /** See Checkout.beginCheckout: call before the branch moves. */
  beginCheckout(prefix: string): Promise<void> {
    return this.checkout.beginCheckout(prefix);
  }

  /** Working tree and index under `prefix` from `before` to `after` (see Checkout.syncWorktree). */
  syncWorktree(prefix: string, before: FileMap, after: FileMap): Promise<void> {
    return this.checkout.syncWorktree(prefix, before, after);
  }

  /** Runs `fn` holding index.lock (see Checkout.holdingIndex). */
  holdingIndex<T>(fn: (held: HeldIndex) => Promise<T>): Promise<T> {
    return this.checkout.holdingIndex(fn);
  }

  /** Completes the checkouts a killed run left pending. */
  finishPendingCheckout(): Promise<void> {
    return this.checkout.finishPendingCheckout();
  }

  /** Moves the branch and brings the working tree along, marker first (see Checkout.moveBranch). */
  moveBranch(expected: string | undefined, next: string, prefix = 'clusters'): Promise<void> {
    return this.checkout.moveBranch(expected, next, prefix);
  }

  async writeCommit(c: { tree: string; parents: string[]; author: Signature; committer?: Signature; message: string }): Promise<string> {
    return this.writer.write('commit', encodeCommit({ ...c, committer: c.committer ?? c.author }));
  }

  /**
   * Moves the branch from `expected` to `next` atomically: every object this Repo wrote is made durable first,
   * then the ref is compared and swapped under its lock (refs.ts). Throws BranchMovedError when it moved meanwhile.
   */
  async updateBranch(expected: string | undefined, next: string): Promise<void> {
    this.writer.sync();
    failpoint('before-ref');
    await swapRef(this.gitdir, this.ref, expected, next);
    failpoint('after-ref');
  }
}
