// The branch's first-parent history held compactly in memory: per commit its times, cluster and changed files, per
// file the chain of its changes. Answers "which commits changed this object", "what was its blob at commit N",
// "what did commit N change" without reading a tree; History checks every answer's commit against git first.
import { RequestError } from '../errors.ts';
import type { IndexRecord } from './index-format.ts';

const NONE = 0xffffffff;

/** A growable array of 32-bit numbers: a year of history is ~1M changes, 4 bytes each instead of a JS array's 8. */
class U32List {
  private data = new Uint32Array(1024);
  length = 0;
  push(v: number): void {
    if (this.length === this.data.length) {
      const grown = new Uint32Array(this.data.length * 2);
      grown.set(this.data);
      this.data = grown;
    }
    this.data[this.length++] = v;
  }
  get(i: number): number {
    return this.data[i];
  }
  set(i: number, v: number): void {
    this.data[i] = v;
  }
}

export interface IndexedChange { path: string; kind: 'added' | 'changed' | 'deleted'; from?: string; to?: string }

/** Where `at` is on the indexed chain: a position, or none when `at` is before the first commit. */
export type IndexedAt = { position?: number };

export interface IndexedVersion {
  position: number;
  kind: 'added' | 'changed' | 'deleted';
}

export class HistoryIndex {
  private readonly oids: string[] = [];
  private readonly positions = new Map<string, number>();
  private readonly committerTimes = new U32List();
  private readonly authorTimes = new U32List();
  private readonly clusters: (string | undefined)[] = [];
  /** Changes of commit p are [changeStart[p], changeStart[p + 1]). */
  private readonly changeStart = new U32List();
  private readonly changePath = new U32List();
  private readonly changeCommit = new U32List();
  /** The change of the same path before this one, or NONE. */
  private readonly changePrevious = new U32List();
  private blobs = Buffer.alloc(20 * 1024); // 20 bytes a change; zeros: deleted
  private readonly paths: string[] = [];
  private readonly pathIds = new Map<string, number>();
  private readonly lastChange = new U32List(); // by path id
  /** Counts truncations: positions read before a truncation may name other commits after it. */
  generation = 0;

  constructor() {
    this.changeStart.push(0);
  }

  get size(): number {
    return this.oids.length;
  }
  /**
   * The parent of the first commit when history was cut there (a shallow fetch): if git has that commit now, the
   * index no longer says what git says and must be built again.
   */
  cutAt?: string;

  get tip(): string | undefined {
    return this.oids.at(-1);
  }
  position(oid: string): number | undefined {
    return this.positions.get(oid);
  }
  oid(position: number): string {
    return this.oids[position];
  }
  committerTime(position: number): number {
    return this.committerTimes.get(position);
  }
  authorTime(position: number): number {
    return this.authorTimes.get(position);
  }
  cluster(position: number): string | undefined {
    return this.clusters[position];
  }

  /** Appends the next commit of the chain (its parent must be the tip). */
  add(r: IndexRecord): void {
    if (this.size && r.parent !== this.tip) throw new Error(`history index: ${r.oid} does not follow ${this.tip}`);
    if (!this.size) this.cutAt = r.parent;
    const position = this.oids.length;
    this.oids.push(r.oid);
    this.positions.set(r.oid, position);
    this.committerTimes.push(r.committerTime);
    this.authorTimes.push(r.authorTime);
    this.clusters.push(r.cluster);
    for (const c of r.changes) {
      let id = this.pathIds.get(c.path);
      if (id === undefined) {
        this.pathIds.set(c.path, id = this.paths.length);
        this.paths.push(c.path);
        this.lastChange.push(NONE);
      }
      const change = this.changePath.length;
      this.changePath.push(id);
      this.changeCommit.push(position);
      this.changePrevious.push(this.lastChange.get(id));
      this.lastChange.set(id, change);
      if ((change + 1) * 20 > this.blobs.length) this.blobs = Buffer.concat([this.blobs, Buffer.alloc(this.blobs.length)]);
      if (c.blob) this.blobs.write(c.blob, change * 20, 'hex');
      else this.blobs.fill(0, change * 20, change * 20 + 20);
    }
    this.changeStart.push(this.changePath.length);
  }

  /** Forgets the commits from `length` on (the branch moved to another line: a push re-applied its commits). */
  truncate(length: number): void {
    if (length >= this.oids.length) return;
    this.generation++;
    const firstChange = this.changeStart.get(length);
    for (let c = this.changePath.length - 1; c >= firstChange; c--) this.lastChange.set(this.changePath.get(c), this.changePrevious.get(c));
    for (const oid of this.oids.splice(length)) this.positions.delete(oid);
    this.clusters.length = length;
    for (const list of [this.committerTimes, this.authorTimes]) list.length = length;
    this.changeStart.length = length + 1;
    for (const list of [this.changePath, this.changeCommit, this.changePrevious]) list.length = firstChange;
    // Paths first seen in the forgotten commits stay known with no changes: harmless, and reused if they return.
  }

  private blob(change: number): string | undefined {
    const at = change * 20;
    for (let i = at; i < at + 20; i++) if (this.blobs[i] !== 0) return this.blobs.toString('hex', at, at + 20);
    return undefined;
  }

  private kindOf(change: number): IndexedChange['kind'] {
    const previous = this.changePrevious.get(change);
    return previous === NONE || !this.blob(previous) ? 'added' : !this.blob(change) ? 'deleted' : 'changed';
  }

  /** The files commit `position` changed whose paths start with `prefix/`, in path order. */
  changesAt(position: number, prefix: string): IndexedChange[] {
    const out: IndexedChange[] = [];
    const under = `${prefix}/`;
    for (let c = this.changeStart.get(position); c < this.changeStart.get(position + 1); c++) {
      const path = this.paths[this.changePath.get(c)];
      if (!path.startsWith(under)) continue;
      const previous = this.changePrevious.get(c);
      const from = previous === NONE ? undefined : this.blob(previous);
      const to = this.blob(c);
      out.push({ path, kind: this.kindOf(c), ...(from && { from }), ...(to && { to }) });
    }
    return out;
  }

  /** Whether commit `position` changed anything under `prefix/` (without building the list). */
  touches(position: number, prefix: string): boolean {
    const under = `${prefix}/`;
    for (let c = this.changeStart.get(position); c < this.changeStart.get(position + 1); c++) {
      if (this.paths[this.changePath.get(c)].startsWith(under)) return true;
    }
    return false;
  }

  /** The commits that changed `path`, newest first, from commit `from` (default: the tip) down. */
  *versionsOf(path: string, from = this.size - 1): Generator<IndexedVersion> {
    const id = this.pathIds.get(path);
    for (let c = id === undefined ? NONE : this.lastChange.get(id); c !== NONE; c = this.changePrevious.get(c)) {
      const position = this.changeCommit.get(c);
      if (position <= from) yield { position, kind: this.kindOf(c) };
    }
  }

  /** The blob at `path` as of commit `position`; undefined when the file did not exist then. */
  blobAt(path: string, position: number): string | undefined {
    const id = this.pathIds.get(path);
    for (let c = id === undefined ? NONE : this.lastChange.get(id); c !== NONE; c = this.changePrevious.get(c)) {
      if (this.changeCommit.get(c) <= position) return this.blob(c);
    }
    return undefined;
  }

  /** `at` (see GitReader.resolve) on the index; undefined when only git can say (a commit off the branch's chain). */
  resolve(at?: string): IndexedAt | undefined {
    if (at === undefined || at === '') return { position: this.size - 1 };
    if (/^[0-9a-f]{40}$/.test(at)) {
      const position = this.position(at);
      return position === undefined ? undefined : { position };
    }
    if (/^[0-9a-f]{4,39}$/.test(at)) {
      for (let p = this.size - 1; p >= 0; p--) if (this.oid(p).startsWith(at)) return { position: p };
      throw new RequestError(404, 'commit_not_found', `no commit ${at} on the branch`);
    }
    const time = Date.parse(at);
    if (!/^\d{4}-\d{2}-\d{2}/.test(at) || Number.isNaN(time)) throw new RequestError(400, 'bad_at', `"${at}" is neither a commit id nor an ISO time`);
    for (let p = this.size - 1; p >= 0; p--) if (this.committerTime(p) * 1000 <= time) return { position: p };
    return {};
  }

  /** Whether any file was ever recorded under `prefix/`. */
  everUnder(prefix: string): boolean {
    const under = `${prefix}/`;
    return this.paths.some((p, id) => p.startsWith(under) && this.lastChange.get(id) !== NONE);
  }
}
