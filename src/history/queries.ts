// Questions users ask of the history, answered from git: current objects, one object, its versions, changes, diffs.
import { parseYaml } from '../snapshot/parse.ts';
import { CLUSTER_SCOPED_DIR, clusterPrefix, fileNameFor, namespaceDirFor, parseObjectPath, type ObjectLocation } from '../model/object-path.ts';
import { clusterOfCommit } from '../model/trailers.ts';
import { attributionInMessage, managerList, type Attribution } from '../attribution/managed-fields.ts';
import { diffObjects, type ObjectDiff } from './diff.ts';
import { approxBytes, Lru } from './lru.ts';
import { RequestError } from '../errors.ts';
import { GitReader, type PathChange } from './reader.ts';
import type { CommitInfo } from '../store/repo.ts';
import type { HistoryIndex } from './history-index.ts';
import { IndexSource } from './index-source.ts';

export interface ObjectRef { clusterId: string; type: string; namespace?: string; name: string }

/** Who changed an object in a commit, as its message recorded (attribution/): absent when it did not. */
export type Managers = ReturnType<typeof managerList>;

export interface Version { commit: string; time: string; kind: 'added' | 'changed' | 'deleted'; subject: string; managers?: Managers }

export interface ObjectChange {
  clusterId: string; type: string; namespace?: string; name: string; path: string;
  kind: PathChange['kind']; diff: ObjectDiff; managers?: Managers;
}

export interface CommitChanges {
  commit: string; time: string; subject: string; objects: ObjectChange[];
  /** How many objects matched when more than were listed (see getChanges' objectsPerCommit). */
  objectsTotal?: number;
}

/** A file a commit changed, before its blobs are read. */
type ChangedFile = PathChange & { loc: ObjectLocation; managers?: Managers };

const iso = (seconds: number) => new Date(seconds * 1000).toISOString();
const subjectOf = (message: string) => message.split('\n')[0];
const nsDir = namespaceDirFor;

export function objectFilePath(ref: ObjectRef): string {
  return `${clusterPrefix(ref.clusterId)}/${ref.type}/${nsDir(ref.namespace)}/${fileNameFor(ref.name)}`;
}

/** An object's file at one point: the commit there (none before the first) and its blob (none: not there). */
type FileAt = { commit?: string; blob?: string };

export class History {
  readonly reader: GitReader;
  // Both bounded by an estimate of the memory they hold (see reader.ts).
  private readonly changeCache = new Lru<string, ObjectChange>(8 << 20); // by commit, path and blobs: immutable
  // Parsed blobs for diffs (read only): a page of changes parses an object's version as one commit's "after" and
  // the next one's "before"; YAML parsing is most of a first page's time.
  private readonly parsed = new Lru<string, unknown>(8 << 20);
  private readonly objectCounts = new Lru<string, number>(20_000);
  private readonly index?: IndexSource;
  /** `index: false` answers every query by walking commits (the index's answers must equal these). */
  constructor(reader: GitReader, o: { index?: boolean } = {}) {
    this.reader = reader;
    if (o.index !== false) this.index = new IndexSource(reader);
  }

  /** Loads the index (a server calls this at start, so the first query does not wait for it): commits indexed. */
  async warm(): Promise<number | undefined> {
    return (await this.index?.current())?.size;
  }

  /**
   * Answers with the index when there is one and `fast` can (it returns undefined when it cannot), else by `walk`.
   * An answer read while the index was cut back (the branch moved to another line) may mix two lines: walked again.
   */
  private async indexed<T>(fast: (ix: HistoryIndex) => Promise<T | undefined> | T | undefined, walk: () => Promise<T>): Promise<T> {
    const ix = await this.index?.current().catch(() => undefined);
    if (ix) {
      const generation = ix.generation;
      const answer = await fast(ix);
      if (answer !== undefined && ix.generation === generation) return answer;
    }
    return walk();
  }

  private resolve(at?: string): Promise<string | undefined> {
    return this.indexed((ix) => {
      const found = ix.resolve(at);
      return found && { commit: found.position === undefined ? undefined : ix.oid(found.position) };
    }, async () => ({ commit: await this.reader.resolve(at) })).then((r) => r.commit);
  }

  private async treeAt(at?: string): Promise<{ commit?: string; tree?: string }> {
    const commit = await this.resolve(at);
    return { commit, tree: commit ? (await this.reader.commit(commit)).tree : undefined };
  }

  /** Current objects (or as of `at`), filtered and paginated; each item carries the parsed object. */
  async getSnapshots(q: { clusterId: string; type?: string; namespace?: string; search?: string; at?: string; page?: number; limit?: number }) {
    const page = q.page ?? 1;
    const limit = q.limit ?? 50;
    const { commit, tree } = await this.treeAt(q.at);
    const matches: { type: string; namespace?: string; file: string; blob: string; path: string }[] = [];
    const clusterTree = tree && await this.reader.lookup(tree, clusterPrefix(q.clusterId));
    const types = clusterTree ? await this.reader.tree(clusterTree) : new Map<string, { oid: string }>();
    if (q.type && !types.has(q.type) && !await this.typeEverRecorded(q.clusterId, q.type)) {
      throw new RequestError(404, 'type_not_found', `cluster ${q.clusterId} has no objects of type ${q.type} on record`);
    }
    for (const [type, t] of types) {
      if (q.type && type !== q.type) continue;
      for (const [ns, n] of await this.reader.tree(t.oid)) {
        if (q.namespace && ns !== nsDir(q.namespace)) continue;
        for (const [file, f] of await this.reader.tree(n.oid)) {
          if (q.search && !file.toLowerCase().includes(q.search.toLowerCase())) continue;
          matches.push({ type, namespace: ns === CLUSTER_SCOPED_DIR ? undefined : ns, file, blob: f.oid,
            path: `${clusterPrefix(q.clusterId)}/${type}/${ns}/${file}` });
        }
      }
    }
    const items = await Promise.all(matches.slice((page - 1) * limit, page * limit).map(async (m) => {
      const object = parseYaml(await this.reader.blobText(m.blob)) as { metadata?: { name?: string } };
      return { type: m.type, namespace: m.namespace, name: object?.metadata?.name ?? m.file.replace(/\.yaml$/, ''), path: m.path, blob: m.blob, object };
    }));
    return { commit, total: matches.length, page, limit, items };
  }

  /** Whether any of the newest `max` commits holds objects of this type for the cluster (an emptied type is still known). */
  async typeEverRecorded(clusterId: string, type: string, max = 10_000): Promise<boolean> {
    return this.indexed((ix) => ix.everUnder(`${clusterPrefix(clusterId)}/${type}`), () => this.typeEverRecordedWalk(clusterId, type, max));
  }

  private async typeEverRecordedWalk(clusterId: string, type: string, max: number): Promise<boolean> {
    let n = 0;
    for await (const c of this.reader.commitsFrom()) {
      if (await this.reader.lookup(c.tree, `${clusterPrefix(clusterId)}/${type}`)) return true;
      if (++n >= max) break;
    }
    return false;
  }

  /** The types recorded for a cluster with their object counts, from tree sizes alone. */
  async typeCounts(clusterId: string, at?: string) {
    const { commit, tree } = await this.treeAt(at);
    const clusterTree = tree && await this.reader.lookup(tree, clusterPrefix(clusterId));
    const types: { type: string; objects: number }[] = [];
    for (const [type, t] of clusterTree ? await this.reader.tree(clusterTree) : []) types.push({ type, objects: await this.objectsIn(t.oid) });
    return { commit, types };
  }

  /**
   * The object files under a type's tree, by the tree's id (immutable): the overview counts every cluster's objects
   * on each view, and 100k objects' leaf trees would fill the tree cache for a number.
   */
  private async objectsIn(typeTree: string): Promise<number> {
    let objects = this.objectCounts.get(typeTree);
    if (objects === undefined) {
      objects = 0;
      for (const ns of (await this.reader.tree(typeTree)).values()) objects += (await this.reader.repo.readTree(ns.oid)).length;
      this.objectCounts.set(typeTree, objects);
    }
    return objects;
  }

  /** One object as stored at `at` (default: now): its YAML text and parsed value. */
  async getObject(ref: ObjectRef & { at?: string }) {
    const path = objectFilePath(ref);
    const { commit, blob } = await this.indexed<FileAt>((ix) => {
      const found = ix.resolve(ref.at);
      if (!found) return undefined;
      const { position } = found;
      return position === undefined ? {} : { commit: ix.oid(position), blob: ix.blobAt(path, position) };
    }, async () => {
      const { commit, tree } = await this.treeAt(ref.at);
      return { commit, blob: tree && await this.reader.lookup(tree, path) };
    });
    if (!commit || !blob) throw new RequestError(404, 'object_not_found', `no ${ref.type} ${ref.namespace ? `${ref.namespace}/` : ''}${ref.name} in cluster ${ref.clusterId}${ref.at ? ` at ${ref.at}` : ''}`);
    const yaml = await this.reader.blobText(blob);
    return { commit, path, blob, yaml, object: parseYaml(yaml) as unknown };
  }

  /** The commits that changed this object, newest first. Walks first-parent history comparing only its path. */
  async getVersions(ref: ObjectRef & { limit?: number }): Promise<Version[]> {
    const path = objectFilePath(ref);
    const limit = ref.limit ?? 100;
    return this.indexed(async (ix) => {
      const found: { commit: string; kind: Version['kind'] }[] = [];
      for (const v of ix.versionsOf(path)) {
        found.push({ commit: ix.oid(v.position), kind: v.kind });
        if (found.length >= limit) break;
      }
      return Promise.all(found.map(async ({ commit, kind }) => {
        const c = await this.reader.commit(commit);
        const managers = managersIn(c.message, path);
        return { commit, time: iso(c.author.timestamp), subject: subjectOf(c.message), kind, ...(managers && { managers }) };
      }));
    }, () => this.versionsWalk(path, limit));
  }

  private async versionsWalk(path: string, limit: number): Promise<Version[]> {
    const versions: Version[] = [];
    let newer: { commit: string; time: number; message: string; blob?: string } | undefined;
    const version = (v: NonNullable<typeof newer>, kind: Version['kind']): Version => {
      const managers = managersIn(v.message, path);
      return { commit: v.commit, time: iso(v.time), subject: subjectOf(v.message), kind, ...(managers && { managers }) };
    };
    for await (const c of this.reader.commitsFrom()) {
      const blob = await this.reader.lookup(c.tree, path);
      if (newer && newer.blob !== blob) {
        versions.push(version(newer, !blob ? 'added' : !newer.blob ? 'deleted' : 'changed'));
        if (versions.length >= limit) return versions;
      }
      newer = { commit: c.oid, time: c.author.timestamp, message: c.message, blob };
    }
    if (newer?.blob) versions.push(version(newer, 'added'));
    return versions.slice(0, limit);
  }

  private async parsedBlob(oid: string): Promise<unknown> {
    let value = this.parsed.get(oid);
    if (value === undefined) {
      const text = await this.reader.blobText(oid);
      this.parsed.set(oid, value = parseYaml(text), 256 + 4 * text.length); // a parsed object: ~4 bytes a byte of YAML
    }
    return value;
  }

  /**
   * The object files one commit changed under `prefix`, with their managers: cheap (a tree diff, or the index's
   * list), no blob read. A parent that is not here (history cut by a shallow fetch) is compared with nothing, as
   * getVersions does.
   */
  private async changedFiles(c: CommitInfo, prefix: string, indexed?: PathChange[]): Promise<ChangedFile[]> {
    const parent = indexed || !c.parents[0] ? undefined : await this.reader.commit(c.parents[0]).catch(() => undefined);
    const files: ChangedFile[] = [];
    for (const p of indexed ?? await this.reader.diffTrees(parent?.tree, c.tree, prefix)) {
      const loc = parseObjectPath(p.path);
      if (!loc) continue;
      const managers = managersIn(c.message, p.path);
      files.push({ ...p, loc, ...(managers && { managers }) });
    }
    return files;
  }

  /** One changed file as an object change with its field-level diff (cached: the same commit, path and blobs). */
  private async objectChange(commit: string, f: ChangedFile): Promise<ObjectChange> {
    const key = `${commit}:${f.path}:${f.from}:${f.to}`;
    const cached = this.changeCache.get(key);
    if (cached) return cached;
    const [before, after] = await Promise.all([f.from, f.to].map((b) => (b ? this.parsedBlob(b) : undefined)));
    const name = ((after ?? before) as { metadata?: { name?: string } } | undefined)?.metadata?.name ?? f.loc.file.replace(/\.yaml$/, '');
    const change: ObjectChange = {
      clusterId: f.loc.clusterId, type: f.loc.type, namespace: f.loc.namespace, name, path: f.path, kind: f.kind,
      diff: diffObjects(before, after), ...(f.managers && { managers: f.managers }),
    };
    this.changeCache.set(key, change, approxBytes(change));
    return change;
  }

  /** The objects one commit changed under `prefix`, each with its field-level diff. */
  async commitChanges(commit: string, prefix: string): Promise<ObjectChange[]> {
    const files = await this.changedFiles(await this.reader.commit(commit), prefix);
    return Promise.all(files.map((f) => this.objectChange(commit, f)));
  }

  /** Commits with changes, newest first, with field-level diffs; `cursor` continues where the last page stopped. */
  async getChanges(q: {
    clusterId?: string; since?: string; until?: string; type?: string; namespace?: string; manager?: string; limit?: number; cursor?: string;
    /** Objects diffed and listed per commit (default 100): a first sync's commit adds thousands. */
    objectsPerCommit?: number;
  }) {
    const since = q.since ? parseTime(q.since, 'since') : undefined;
    const until = q.until ? parseTime(q.until, 'until') : undefined;
    const limit = q.limit ?? 20;
    let prefix = 'clusters';
    if (q.clusterId) {
      prefix = clusterPrefix(q.clusterId);
      if (q.type) prefix += `/${q.type}${q.namespace ? `/${nsDir(q.namespace)}` : ''}`;
    }
    if (q.cursor && !/^[0-9a-f]{40}$/.test(q.cursor)) throw new RequestError(400, 'bad_cursor', 'cursor must be a commit id from nextCursor');
    const perCommit = q.objectsPerCommit ?? 100;
    // One commit's entry: its objects under the filters (at most perCommit diffed), or undefined when none is left.
    const entry = async (oid: string, indexed?: PathChange[]): Promise<CommitChanges | undefined> => {
      if (indexed?.length === 0) return undefined; // the index says it changed nothing here: no commit read
      const c = await this.reader.commit(oid);
      let files = await this.changedFiles(c, prefix, indexed);
      if (!q.clusterId && (q.type || q.namespace)) {
        files = files.filter((f) => (!q.type || f.loc.type === q.type) && (!q.namespace || f.loc.namespace === q.namespace));
      }
      if (q.manager) files = files.filter((f) => f.managers?.some((m) => m.manager === q.manager));
      if (!files.length) return undefined;
      const objects = await Promise.all(files.slice(0, perCommit).map((f) => this.objectChange(oid, f)));
      return { commit: oid, time: iso(c.author.timestamp), subject: subjectOf(c.message), objects, ...(files.length > perCommit && { objectsTotal: files.length }) };
    };
    // A page along first-parent history from `commits` (newest first); `indexed`: the commit's files from the index.
    const page = async (commits: AsyncIterable<{ oid: string; time: number; indexed?: PathChange[] }>) => {
      const changes: CommitChanges[] = [];
      for await (const c of commits) {
        if (changes.length >= limit) return { changes, nextCursor: c.oid as string | undefined };
        if (until !== undefined && c.time > until) continue;
        if (since !== undefined && c.time < since) break;
        const e = await entry(c.oid, c.indexed);
        if (e) changes.push(e);
      }
      return { changes, nextCursor: undefined };
    };
    return this.indexed((ix) => {
      const from = q.cursor ? ix.position(q.cursor) : ix.size - 1;
      if (from === undefined) return undefined; // a cursor off the branch's chain: walked from there
      return page((async function* () {
        for (let p = from; p >= 0; p--) yield { oid: ix.oid(p), time: ix.committerTime(p) * 1000, indexed: ix.changesAt(p, prefix) };
      })());
    }, () => page((async function* (reader: GitReader) {
      // Committer time: in order along first-parent history (see GitReader.resolve).
      for await (const c of reader.commitsFrom(q.cursor)) yield { oid: c.oid, time: c.committer.timestamp * 1000 };
    })(this.reader)));
  }

  /** The field-level diff of one object between two commits or times (`to` defaults to now). */
  async diffObject(ref: ObjectRef & { from: string; to?: string }) {
    const path = objectFilePath(ref);
    const ends = await this.indexed<FileAt[]>((ix) => {
      const [from, to] = [ix.resolve(ref.from), ix.resolve(ref.to)];
      if (!from || !to) return undefined;
      return [from, to].map(({ position: p }) => (p === undefined ? {} : { commit: ix.oid(p), blob: ix.blobAt(path, p) }));
    }, () => Promise.all([ref.from, ref.to].map(async (at) => {
      const { commit, tree } = await this.treeAt(at);
      return { commit, blob: tree && await this.reader.lookup(tree, path) };
    })));
    const [a, b] = await Promise.all(ends.map(({ blob }) => (blob ? this.parsedBlob(blob) : undefined)));
    if (a === undefined && b === undefined) throw new RequestError(404, 'object_not_found', `no ${ref.type} ${ref.name} at either point`);
    return { from: ends[0].commit, to: ends[1].commit, path, diff: diffObjects(a, b) };
  }

  /** The newest commit that recorded this cluster (by its Kubetrail-Cluster trailer), walking at most `max` commits. */
  async lastClusterCommit(clusterId: string, max = 10_000) {
    const found = await this.indexed((ix) => {
      for (let p = ix.size - 1; p >= Math.max(0, ix.size - max); p--) if (ix.cluster(p) === clusterId) return { commit: ix.oid(p) };
      return { commit: undefined };
    }, async () => ({ commit: (await this.lastClusterCommitWalk(clusterId, max))?.commit }));
    if (!found.commit) return undefined;
    const c = await this.reader.commit(found.commit);
    return { commit: c.oid, time: iso(c.author.timestamp), subject: subjectOf(c.message) };
  }

  private async lastClusterCommitWalk(clusterId: string, max: number) {
    let n = 0;
    for await (const c of this.reader.commitsFrom()) {
      if (clusterOfCommit(c.message) === clusterId) return { commit: c.oid, time: iso(c.author.timestamp), subject: subjectOf(c.message) };
      if (++n >= max) break;
    }
    return undefined;
  }
}

/** The managers a commit message names for the object at `path` (the full path, `clusters/<id>/…`). */
function managersIn(message: string, path: string): Managers | undefined {
  if (!message.includes('  (')) return undefined; // written without attribution
  const cluster = clusterOfCommit(message);
  const prefix = cluster && `${clusterPrefix(cluster)}/`;
  if (!prefix || !path.startsWith(prefix)) return undefined;
  if (parsed.message !== message) Object.assign(parsed, { message, byPath: attributionInMessage(message) });
  const a = parsed.byPath.get(path.slice(prefix.length));
  return a && managerList(a);
}
// The last message parsed: one commit's objects are looked up one after another.
const parsed = { message: '', byPath: new Map<string, Attribution>() };

function parseTime(value: string, field: string): number {
  const t = Date.parse(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(t)) throw new RequestError(400, `bad_${field}`, `${field} must be an ISO time, got "${value}"`);
  return t;
}
