// Reads history straight from the repository. Git objects never change, so trees, commits and per-commit
// results are cached by id in bounded LRUs; a request walks only commits and subtrees that differ.
import type { CommitInfo, Repo } from '../store/repo.ts';
import { RequestError } from '../errors.ts';
import { parseAt, prefixNotFound } from './at.ts';
import { Lru } from './lru.ts';

const MB = 1 << 20;

export interface TreeEntryInfo { name: string; oid: string; isTree: boolean }

export interface PathChange { path: string; kind: 'added' | 'changed' | 'deleted'; from?: string; to?: string }


export class GitReader {
  readonly repo: Repo;
  // Bounded by an estimate of the memory each entry holds (a server's RSS is the budget, not a count of entries:
  // 200k tree entries and 20k commits with their messages held ~200 MB after 10 minutes of queries).
  private readonly trees: Lru<string, Map<string, TreeEntryInfo>>;
  private readonly commits: Lru<string, CommitInfo>;
  private readonly blobs: Lru<string, string>;
  /** `small`: for one pass over history (a sync's housekeeping), not a server's repeated queries. */
  constructor(repo: Repo, o: { small?: boolean } = {}) {
    this.repo = repo;
    // A server's history answers come from the index (history-index.ts); trees are read for the current state
    // (snapshots, type counts) and for walks where there is no index, commits for the answers' subjects.
    this.trees = new Lru((o.small ? 8 : 16) * MB);
    this.commits = new Lru((o.small ? 1 : 4) * MB);
    this.blobs = new Lru((o.small ? 2 : 8) * MB);
  }

  async commit(oid: string): Promise<CommitInfo> {
    let c = this.commits.get(oid);
    if (!c) {
      c = await this.repo.readCommit(oid);
      this.commits.set(oid, c, 400 + c.message.length + c.author.name.length + c.author.email.length);
    }
    return c;
  }

  async tree(oid: string): Promise<Map<string, TreeEntryInfo>> {
    let t = this.trees.get(oid);
    if (!t) {
      let weight = 64;
      t = new Map((await this.repo.readTree(oid)).map((e) => {
        weight += 150 + e.path.length; // the entry object, its id and name strings, the Map's slot
        return [e.path, { name: e.path, oid: e.oid, isTree: e.type === 'tree' }];
      }));
      this.trees.set(oid, t, weight);
    }
    return t;
  }

  async blobText(oid: string): Promise<string> {
    let text = this.blobs.get(oid);
    if (text === undefined) {
      text = Buffer.from(await this.repo.readBlob(oid)).toString('utf8');
      this.blobs.set(oid, text, text.length + 64);
    }
    return text;
  }

  /** The entry id at `path` below `treeOid` (tree or blob), or undefined. */
  async lookup(treeOid: string, path: string): Promise<string | undefined> {
    let oid = treeOid;
    for (const name of path.split('/')) {
      const entry = (await this.tree(oid)).get(name);
      if (!entry) return undefined;
      oid = entry.oid;
    }
    return oid;
  }

  /** Files that differ between two trees under `prefix`, descending only into subtrees whose ids differ. */
  async diffTrees(a: string | undefined, b: string | undefined, prefix: string): Promise<PathChange[]> {
    const changes: PathChange[] = [];
    const walk = async (x: string | undefined, y: string | undefined, base: string): Promise<void> => {
      if (x === y) return;
      const tx = x ? await this.tree(x) : new Map<string, TreeEntryInfo>();
      const ty = y ? await this.tree(y) : new Map<string, TreeEntryInfo>();
      for (const name of new Set([...tx.keys(), ...ty.keys()])) {
        const ex = tx.get(name);
        const ey = ty.get(name);
        const path = base ? `${base}/${name}` : name;
        if (ex?.oid === ey?.oid) continue;
        if (ex?.isTree || ey?.isTree) {
          await walk(ex?.isTree ? ex.oid : undefined, ey?.isTree ? ey.oid : undefined, path);
          continue;
        }
        changes.push({ path, kind: !ex ? 'added' : !ey ? 'deleted' : 'changed', from: ex?.oid, to: ey?.oid });
      }
    };
    await walk(a && await this.lookup(a, prefix), b && await this.lookup(b, prefix), prefix);
    return changes.sort((p, q) => (p.path < q.path ? -1 : 1));
  }

  /** Walks first-parent history from the branch head (or `from`), newest first. */
  async *commitsFrom(from?: string): AsyncGenerator<CommitInfo> {
    let oid = from ?? await this.repo.head();
    while (oid) {
      // A shallow clone (a CronJob's fresh volume) ends where its history was cut: stop there.
      const c = await this.commit(oid).catch((e) => (oid === from ? Promise.reject(e) : undefined));
      if (!c) return;
      yield c;
      oid = c.parents[0];
    }
  }

  /**
   * A commit id from `at`: a full or abbreviated commit id, or an ISO time (the branch as it was then: the newest
   * commit committed at or before it).
   * Undefined `at` means the branch head.
   */
  async resolve(at?: string): Promise<string | undefined> {
    const a = parseAt(at);
    if ('head' in a) return this.repo.head();
    if ('commit' in a) {
      await this.commit(a.commit).catch(() => {
        throw new RequestError(404, 'commit_not_found', `no commit ${a.commit}`);
      });
      return a.commit;
    }
    if ('prefix' in a) {
      for await (const c of this.commitsFrom()) if (c.oid.startsWith(a.prefix)) return c.oid;
      throw prefixNotFound(a.prefix);
    }
    // Committer time: when the commit joined the branch, in order along first-parent history even after a push
    // replayed it onto a newer remote head (its author time, when the cluster was read, may be older).
    for await (const c of this.commitsFrom()) if (c.committer.timestamp * 1000 <= a.time) return c.oid;
    return undefined; // before the first commit: nothing existed yet
  }
}
