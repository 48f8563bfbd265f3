// A git repository as kubetrail uses it: one handle on its objects (object-db.ts), trees (trees.ts), refs
// (refs.ts) and checkout (checkout.ts); commits are made here and the branch moves last, in the order git keeps:
// objects durable, then the checkout marker, then the ref (lock, fsync, rename, fsync), then the working tree;
// so a crash at any point leaves a valid repository that the next run completes.
import fs from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import git from 'isomorphic-git';
import { failpoint } from './failpoint.ts';
import { Checkout } from './checkout.ts';
import { ObjectDatabase } from './object-db.ts';
import { readRef, swapRef } from './refs.ts';
import * as trees from './trees.ts';
import type { TreeListing } from './trees.ts';
import { encodeCommit, parseCommit, type Signature } from './codec.ts';
import type { ObjectWriter } from './loose.ts';
import type { ObjectBatch } from './pack.ts';
import type { HeldIndex } from './worktree.ts';
import { serialQueue } from '../util/serial.ts';
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

  readTree(oid: string): Promise<TreeListing[]> {
    return trees.readTree(this.objects, oid);
  }

  async readBlob(oid: string): Promise<Uint8Array> {
    return this.objects.read(oid);
  }

  /** See trees.ts. */
  entryAt(treeOid: string, path: string): Promise<string | undefined> {
    return trees.entryAt(this.objects, treeOid, path);
  }

  listFiles(treeOid: string | undefined, prefix = ''): Promise<FileMap> {
    return trees.listFiles(this.objects, treeOid, prefix);
  }

  writeTreeFromFiles(files: FileMap, base?: { tree: string | undefined; changed: Iterable<string> }, batch?: ObjectBatch): Promise<string | undefined> {
    return trees.writeTreeFromFiles(this.objects, files, base, batch);
  }

  replaceSubtree(rootTree: string | undefined, path: string, subtree: string | undefined): Promise<string> {
    return trees.replaceSubtree(this.objects, rootTree, path, subtree);
  }

  /** Runs `fn` after every earlier `exclusive` call of this process has finished (commits of parallel cluster syncs). */
  readonly exclusive = serialQueue();

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
