// Skips re-rendering objects that did not change: `(type, uid, resourceVersion) → blob id` from the last run.
// The same resourceVersion means the same object, and rendering is a pure function of the object and of the
// settings in the fingerprint, so the blob is the same. A hit is used only when that blob is in the previous tree.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const FORMAT = 1; // bump when normalize/serialize output changes

export class RenderCache {
  private readonly file: string;
  private readonly fingerprint: string;
  private readonly previous: Map<string, string>;
  private readonly next = new Map<string, string>();
  private differs = false;

  constructor(gitdir: string, clusterId: string, settings: unknown) {
    this.file = join(gitdir, 'kubetrail', `render-cache-${clusterId}.json`);
    this.fingerprint = createHash('sha256').update(JSON.stringify([FORMAT, settings])).digest('hex');
    this.previous = new Map();
    try {
      const saved = JSON.parse(readFileSync(this.file, 'utf8')) as { fingerprint: string; entries: [string, string][] };
      if (saved.fingerprint === this.fingerprint) this.previous = new Map(saved.entries);
    } catch { /* no cache yet, or unreadable: render everything */ }
  }

  static key(type: string, uid: unknown, resourceVersion: unknown): string | undefined {
    return typeof uid === 'string' && typeof resourceVersion === 'string' && resourceVersion ? `${type}/${uid}/${resourceVersion}` : undefined;
  }

  get(key: string | undefined): string | undefined {
    return key === undefined ? undefined : this.previous.get(key);
  }

  set(key: string | undefined, oid: string): void {
    if (key === undefined) return;
    this.next.set(key, oid);
    if (this.previous.get(key) !== oid) this.differs = true;
  }

  /** Keeps only what this run saw (deleted objects drop out). Written atomically; losing it only costs time. */
  save(): void {
    if (!this.differs && this.next.size === this.previous.size) return; // the same entries: nothing to write
    mkdirSync(join(this.file, '..'), { recursive: true });
    writeFileSync(`${this.file}.tmp`, JSON.stringify({ fingerprint: this.fingerprint, entries: [...this.next] }));
    renameSync(`${this.file}.tmp`, this.file);
  }
}
