// The branch's first-parent history held compactly in memory: per commit its times, cluster and changed files, per
// file the chain of its changes. Answers "which commits changed this object", "what was its blob at commit N",
// "what did commit N change" without reading a tree; History uses it only while it ends at the branch head.
import { parseAt, prefixNotFound } from './at.ts';
import type { IndexRecord, RecordSink } from './index-format.ts';
import { ByteRecords, U32List } from './growable.ts';
import { OidPositions } from './oid-positions.ts';
import { PathTable } from './path-table.ts';

const NONE = 0xffffffff;
const PREFIX = 'clusters/';
/** Paths are kept below clusters/, where all of them are. */
const key = (path: string) => (path.startsWith(PREFIX) ? path.slice(PREFIX.length) : undefined);
/** What a kept path starts with when its full path is under `prefix/`. */
const keyPrefix = (prefix: string) => Buffer.from(prefix === 'clusters' ? '' : `${key(prefix) ?? '\0'}/`);

export interface IndexedChange { path: string; kind: 'added' | 'changed' | 'deleted'; from?: string; to?: string }

/** Where `at` is on the indexed chain: a position, or none when `at` is before the first commit. */
export type IndexedAt = { position?: number };

export interface IndexedVersion {
  position: number;
  kind: 'added' | 'changed' | 'deleted';
}

export class HistoryIndex implements RecordSink {
  private readonly commits = new OidPositions();
  private readonly committerTimes: U32List;
  private readonly authorTimes: U32List;
  private readonly clusterIds: U32List; // NONE: no cluster
  private readonly clusterTable = new PathTable();
  private readonly clusterNames: string[] = [];
  /** Changes of commit p are [changeStart[p], changeEnd(p)). */
  private readonly changeStart: U32List;
  private readonly changePath: U32List;
  private readonly changeCommit: U32List;
  /** The change of the same path before this one, or NONE. */
  private readonly changePrevious: U32List;
  private readonly blobs: ByteRecords; // 20 bytes a change; zeros: deleted
  private readonly paths = new PathTable();
  private readonly lastChange = new U32List(); // by path id
  /** Counts truncations: positions read before a truncation may name other commits after it. */
  generation = 0;

  get size(): number {
    return this.commits.size;
  }
  /**
   * The parent of the first commit when history was cut there (a shallow fetch): if git has that commit now, the
   * index no longer says what git says and must be built again.
   */
  cutAt?: string;

  get tip(): string | undefined {
    return this.size ? this.oid(this.size - 1) : undefined;
  }
  position(oid: string): number | undefined {
    return this.commits.position(oid);
  }
  oid(position: number): string {
    return this.commits.oid(position);
  }
  committerTime(position: number): number {
    return this.committerTimes.get(position);
  }
  authorTime(position: number): number {
    return this.authorTimes.get(position);
  }
  cluster(position: number): string | undefined {
    const id = this.clusterIds.get(position);
    return id === NONE ? undefined : this.clusterNames[id];
  }

  /** Appends the next commit of the chain (its parent must be the tip). */
  add(r: IndexRecord): void {
    const ids = Buffer.from(r.oid + (r.parent ?? ''), 'hex');
    const cluster = Buffer.from(r.cluster ?? '');
    this.commit(Buffer.concat([ids, cluster]), 0, r.parent ? 20 : undefined, r.committerTime, r.authorTime, ids.length, ids.length + cluster.length);
    for (const c of r.changes) {
      const path = Buffer.from(key(c.path)!);
      this.change(Buffer.concat([path, Buffer.from(c.blob ?? '0'.repeat(40), 'hex')]), 0, path.length);
    }
  }

  /** `changes`, `commits`: how many to make room for at once (a guess: the lists grow in place and are trimmed). */
  constructor(o: { changes?: number; commits?: number } = {}) {
    const commits = o.commits ?? 1024;
    const changes = o.changes ?? 1024;
    [this.committerTimes, this.authorTimes, this.clusterIds, this.changeStart] = Array.from({ length: 4 }, () => new U32List(commits));
    [this.changePath, this.changeCommit, this.changePrevious] = Array.from({ length: 3 }, () => new U32List(changes));
    this.blobs = new ByteRecords(20, changes);
  }

  /** RecordSink: the next commit (its parent must be the tip); its changes follow. */
  commit(buf: Buffer, oidAt: number, parentAt: number | undefined, committerTime: number, authorTime: number, clusterStart: number, clusterEnd: number): void {
    if (this.size && (parentAt === undefined || !this.commits.ids.equals(this.size - 1, buf, parentAt))) {
      throw new Error(`history index: ${buf.toString('hex', oidAt, oidAt + 20)} does not follow ${this.tip}`);
    }
    if (!this.size) this.cutAt = parentAt === undefined ? undefined : buf.toString('hex', parentAt, parentAt + 20);
    this.commits.push(buf, oidAt);
    this.committerTimes.push(committerTime);
    this.authorTimes.push(authorTime);
    let cluster = NONE;
    if (clusterEnd > clusterStart) {
      cluster = this.clusterTable.intern(buf, clusterStart, clusterEnd);
      if (cluster === this.clusterNames.length) this.clusterNames.push(this.clusterTable.path(cluster));
    }
    this.clusterIds.push(cluster);
    this.changeStart.push(this.changePath.length);
  }

  /** RecordSink: a file the last commit changed, its path and blob in `buf` (see RecordSink.change). */
  change(buf: Buffer, pathStart: number, pathEnd: number): void {
    const id = this.paths.intern(buf, pathStart, pathEnd);
    if (id === this.lastChange.length) this.lastChange.push(NONE);
    const change = this.changePath.length;
    this.changePath.push(id);
    this.changeCommit.push(this.size - 1);
    this.changePrevious.push(this.lastChange.get(id));
    this.lastChange.set(id, change);
    this.blobs.push(buf, pathEnd);
  }

  /** Gives back memory reserved while loading. */
  trim(): void {
    for (const list of [this.committerTimes, this.authorTimes, this.clusterIds, this.changeStart, this.changePath, this.changeCommit, this.changePrevious, this.lastChange]) list.trim();
    this.paths.trim();
    this.blobs.trim();
    this.commits.trim();
  }

  private changeEnd(position: number): number {
    return position + 1 < this.size ? this.changeStart.get(position + 1) : this.changePath.length;
  }

  /** Forgets the commits from `length` on (the branch moved to another line: a push re-applied its commits). */
  truncate(length: number): void {
    if (length >= this.size) return;
    this.generation++;
    const firstChange = this.changeStart.get(length);
    for (let c = this.changePath.length - 1; c >= firstChange; c--) this.lastChange.set(this.changePath.get(c), this.changePrevious.get(c));
    this.commits.truncate(length);
    for (const list of [this.committerTimes, this.authorTimes, this.clusterIds, this.changeStart]) list.length = length;
    for (const list of [this.changePath, this.changeCommit, this.changePrevious, this.blobs]) list.length = firstChange;
    // Paths first seen in the forgotten commits stay known with no changes: harmless, and reused if they return.
  }

  private blob(change: number): string | undefined {
    return this.blobs.isZero(change) ? undefined : this.blobs.hex(change);
  }

  private kindOf(change: number): IndexedChange['kind'] {
    const previous = this.changePrevious.get(change);
    return previous === NONE || !this.blob(previous) ? 'added' : !this.blob(change) ? 'deleted' : 'changed';
  }

  /** The files commit `position` changed whose paths start with `prefix/`, in path order. */
  changesAt(position: number, prefix: string): IndexedChange[] {
    const out: IndexedChange[] = [];
    const under = keyPrefix(prefix);
    for (let c = this.changeStart.get(position), end = this.changeEnd(position); c < end; c++) {
      const id = this.changePath.get(c);
      if (!this.paths.startsWith(id, under)) continue;
      const path = PREFIX + this.paths.path(id);
      const previous = this.changePrevious.get(c);
      const from = previous === NONE ? undefined : this.blob(previous);
      const to = this.blob(c);
      out.push({ path, kind: this.kindOf(c), ...(from && { from }), ...(to && { to }) });
    }
    return out;
  }

  /** The commits that changed `path`, newest first, from commit `from` (default: the tip) down. */
  *versionsOf(path: string, from = this.size - 1): Generator<IndexedVersion> {
    const id = this.pathId(path);
    for (let c = id === undefined ? NONE : this.lastChange.get(id); c !== NONE; c = this.changePrevious.get(c)) {
      const position = this.changeCommit.get(c);
      if (position <= from) yield { position, kind: this.kindOf(c) };
    }
  }

  /** The blob at `path` as of commit `position`; undefined when the file did not exist then. */
  blobAt(path: string, position: number): string | undefined {
    const id = this.pathId(path);
    for (let c = id === undefined ? NONE : this.lastChange.get(id); c !== NONE; c = this.changePrevious.get(c)) {
      if (this.changeCommit.get(c) <= position) return this.blob(c);
    }
    return undefined;
  }

  /** `at` (see GitReader.resolve) on the index; undefined when only git can say (a commit off the branch's chain). */
  resolve(at?: string): IndexedAt | undefined {
    const a = parseAt(at);
    if ('head' in a) return { position: this.size - 1 };
    if ('commit' in a) {
      const position = this.position(a.commit);
      return position === undefined ? undefined : { position };
    }
    if ('prefix' in a) {
      for (let p = this.size - 1; p >= 0; p--) if (this.oid(p).startsWith(a.prefix)) return { position: p };
      throw prefixNotFound(a.prefix);
    }
    for (let p = this.size - 1; p >= 0; p--) if (this.committerTime(p) * 1000 <= a.time) return { position: p };
    return {};
  }

  /** Whether any file was ever recorded under `prefix/`. */
  everUnder(prefix: string): boolean {
    const under = keyPrefix(prefix);
    for (let id = 0; id < this.paths.size; id++) if (this.paths.startsWith(id, under) && this.lastChange.get(id) !== NONE) return true;
    return false;
  }

  private pathId(path: string): number | undefined {
    const kept = key(path);
    return kept === undefined ? undefined : this.paths.id(kept);
  }
}
