// Checkout: the working tree and index following the branch, and the marker that makes that crash-safe. The
// marker is durable before the branch moves and goes only once the index matches it, so a run killed in between
// is always completed by the next (`finishPendingCheckout`); index.lock is held across branch move and index
// update, as git commit holds it.
import { readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { atomicWrite } from './atomic-write.ts';
import { failpoint } from './failpoint.ts';
import { compareFiles, type FileMap } from './files.ts';
import { parseTreeRaw } from './codec.ts';
import {
  applyChanges, changesFromIndex, changesOutside, checkIndexWritable, withIndexLocked, type CheckoutTarget, type HeldIndex,
  type WorktreeChange,
} from './worktree.ts';

/** What a checkout needs of a repository (Repo is one). */
export interface CheckoutRepo extends CheckoutTarget {
  readonly objects: { read(oid: string): Promise<Buffer> };
  head(): Promise<string | undefined>;
  readCommit(oid: string): Promise<{ tree: string }>;
  entryAt(treeOid: string, path: string): Promise<string | undefined>;
  listFiles(treeOid: string | undefined, prefix?: string): Promise<FileMap>;
  updateBranch(expected: string | undefined, next: string): Promise<void>;
  exclusive<T>(fn: () => Promise<T>): Promise<T>;
}

/** The checkout marker's line for content outside clusters/ that a moved branch brought (see moveBranch). */
const OUTSIDE = '/';

export class Checkout {
  private readonly repo: CheckoutRepo;
  constructor(repo: CheckoutRepo) {
    this.repo = repo;
  }

  private get pendingMarker(): string {
    return join(this.repo.gitdir, 'kubetrail-checkout-pending');
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
    if (this.repo.bare) return;
    if (!this.heldIndex) checkIndexWritable(this.repo); // an index kubetrail cannot update is refused before anything changes
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
    if (this.repo.bare) return;
    const pending = await this.pendingPrefixes();
    if (pending.some((p) => !this.marked.has(p))) return this.checkoutHead(new Set([...pending, prefix]));
    if (!pending.includes(prefix)) await this.beginCheckout(prefix);
    const { added, changed, deleted } = compareFiles(before, after);
    const changes: WorktreeChange[] = [];
    for (const path of [...added, ...changed]) changes.push({ path: `${prefix}/${path}`, oid: after.get(path) });
    for (const path of deleted) changes.push({ path: `${prefix}/${path}` });
    await this.holdingIndex((held) => applyChanges(this.repo, held, changes));
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
    if (this.repo.bare) return fn({ index: { version: 2, entries: new Map(), kept: [] }, changed: false, inOrder: true });
    this.afterIndexWritten = [];
    const result = await withIndexLocked(this.repo, async (held) => {
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
    return this.repo.exclusive(async () => {
      const pending = await this.pendingPrefixes();
      if (pending.length > 0 && !this.repo.bare) await this.checkoutHead(new Set(pending));
    });
  }

  /** Brings the working tree and index under each prefix to HEAD, comparing with what the index records. */
  private async checkoutHead(prefixes: Set<string>): Promise<void> {
    const head = await this.repo.head();
    const tree = head ? (await this.repo.readCommit(head)).tree : undefined;
    for (const prefix of prefixes) {
      if (prefix === OUTSIDE) {
        const target = await this.entriesOutside(head, 'clusters');
        await this.holdingIndex((held) => applyChanges(this.repo, held, changesOutside(this.repo.dir, held.index.entries, 'clusters', target)));
        continue;
      }
      const target = await this.repo.listFiles(tree && await this.repo.entryAt(tree, prefix), prefix);
      await this.holdingIndex((held) => applyChanges(this.repo, held, changesFromIndex(this.repo.dir, held.index.entries, prefix, target)));
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
    if (this.repo.bare) return this.repo.updateBranch(expected, next); // no working tree to bring along
    const filesOf = async (commit: string | undefined) => {
      const tree = commit ? (await this.repo.readCommit(commit)).tree : undefined;
      return this.repo.listFiles(tree && await this.repo.entryAt(tree, prefix));
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
      await this.repo.updateBranch(expected, next);
      if (outside.length > 0 && !this.repo.bare) {
        await this.holdingIndex((held) => applyChanges(this.repo, held, outside));
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
      for (const e of parseTreeRaw(await this.repo.objects.read(oid))) {
        const name = (e.name as Buffer).toString('latin1');
        const path = base ? `${base}/${name}` : name;
        if (!base && name === owned) continue;
        if (e.mode === '40000' || e.mode === '040000') await walk(e.oid, path);
        else entries.set(path, { oid: e.oid, mode: e.mode });
      }
    };
    if (commit) await walk((await this.repo.readCommit(commit)).tree, '');
    return entries;
  }
}
