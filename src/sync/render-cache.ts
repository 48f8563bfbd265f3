// Skips re-rendering objects that did not change: `(type, uid, resourceVersion) → blob id` from the last run.
// The same resourceVersion means the same object, and rendering is a pure function of the object and of the
// settings in the fingerprint, so the blob is the same. A hit is used only when that blob is in the previous tree.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HeldLock } from '../store/atomic-write.ts';

const FORMAT = 2; // bump when normalize/serialize output changes (2: YAML 1.1 look-alike strings quoted)

/** The cache file. `readAt` is missing in files of versions before attribution. */
export interface SavedCache { fingerprint: string; readAt?: number; entries: [string, string][] }

export class RenderCache {
  private readonly file: string;
  /** FORMAT and the settings: a cache (or remote state) made with others is not used. */
  readonly fingerprint: string;
  /** The last run's entries; `seen` marks those this run met again with the same blob. */
  private readonly previous: Map<string, { oid: string; seen: boolean }>;
  private readonly added = new Map<string, string>();
  private seen = 0;
  /** When the run that saved the entries started reading the cluster (ms), if it said: attribution's bound. */
  readAt: number | undefined;
  private readonly startedAt: number;

  /** `startedAt`: when this run started reading the cluster, saved with its entries. */
  constructor(gitdir: string, clusterId: string, settings: unknown, startedAt = Date.now()) {
    this.startedAt = startedAt;
    this.file = RenderCache.fileOf(gitdir, clusterId);
    this.fingerprint = createHash('sha256').update(JSON.stringify([FORMAT, settings])).digest('hex');
    this.previous = new Map();
    try {
      const saved = JSON.parse(readFileSync(this.file, 'utf8')) as SavedCache;
      if (saved.fingerprint === this.fingerprint) {
        for (const [key, oid] of saved.entries) this.previous.set(key, { oid, seen: false });
        this.readAt = typeof saved.readAt === 'number' ? saved.readAt : undefined;
      }
    } catch { /* no cache yet, or unreadable: render everything */ }
  }

  static fileOf(gitdir: string, clusterId: string): string {
    return join(gitdir, 'kubetrail', `render-cache-${clusterId}.json`);
  }

  /** Whether a run in this repository saved a cache for the cluster (a CronJob's empty volume has none). */
  static exists(gitdir: string, clusterId: string): boolean {
    return existsSync(RenderCache.fileOf(gitdir, clusterId));
  }

  /** What the last run in this repository saved, as it saved it (for the remote state, see render-state.ts). */
  static readSaved(gitdir: string, clusterId: string): SavedCache | undefined {
    try {
      return JSON.parse(readFileSync(RenderCache.fileOf(gitdir, clusterId), 'utf8'));
    } catch {
      return undefined;
    }
  }

  /** Takes the entries of a remote state when this repository has none of its own (a CronJob's empty volume). */
  seed(entries: Map<string, string>, readAt: number | undefined): void {
    if (this.previous.size > 0) return;
    for (const [key, oid] of entries) this.previous.set(key, { oid, seen: false });
    this.readAt = readAt;
  }

  /** Joined into one flat string (see pathInCluster): a sync keeps a key per object. */
  static key(type: string, uid: unknown, resourceVersion: unknown): string | undefined {
    return typeof uid === 'string' && typeof resourceVersion === 'string' && resourceVersion ? [type, uid, resourceVersion].join('/') : undefined;
  }

  /** Entries from the last run (0 when there was none, or its settings differ). */
  get size(): number {
    return this.previous.size;
  }

  get(key: string | undefined): string | undefined {
    return key === undefined ? undefined : this.previous.get(key)?.oid;
  }

  set(key: string | undefined, oid: string): void {
    if (key === undefined) return;
    const entry = this.previous.get(key);
    if (entry?.oid === oid) {
      if (!entry.seen) this.seen++;
      entry.seen = true;
    } else {
      this.added.set(key, oid);
    }
  }

  /**
   * Saves what this run saw (deleted objects drop out) and lets go of the entries: a cache is closed once, at
   * the end of its sync. Written atomically through a lock file (losing it only costs time) and in chunks: one JSON string of every
   * entry would be the largest thing a first sync holds.
   */
  close(): void {
    if (this.added.size > 0 || this.seen !== this.previous.size) this.write(); // else the same entries: keep the file
    this.previous.clear();
    this.added.clear();
  }

  private write(): void {
    mkdirSync(join(this.file, '..'), { recursive: true });
    const lock = HeldLock.tryAcquire(this.file);
    if (!lock) return; // only another run's leftover could hold it: the next run saves a cache again
    try {
      let chunk = `{"fingerprint":${JSON.stringify(this.fingerprint)},"readAt":${this.startedAt},"entries":[`;
      let first = true;
      const add = (key: string, oid: string) => {
        chunk += `${first ? '' : ','}${JSON.stringify([key, oid])}`;
        first = false;
        if (chunk.length > 1 << 16) {
          lock.write(chunk);
          chunk = '';
        }
      };
      for (const [key, { oid, seen }] of this.previous) if (seen && !this.added.has(key)) add(key, oid);
      for (const [key, oid] of this.added) add(key, oid);
      lock.write(`${chunk}]}`);
    } catch (e) {
      lock.rollback();
      throw e;
    }
    lock.commit();
  }
}
