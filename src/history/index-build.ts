// Index records from git: which commits of the branch's first-parent chain an index lacks, and what each changed
// under clusters/ (a tree diff against its first parent, the same one History's walk makes).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { clusterOfCommit } from '../model/trailers.ts';
import type { CommitInfo } from '../store/repo.ts';
import type { IndexRecord } from './index-format.ts';
import type { GitReader } from './reader.ts';

/** Grafts and replacements change what git calls a commit's parent: no index then (History walks). */
export const indexable = (gitdir: string) => !['info/grafts', 'refs/replace'].some((p) => existsSync(join(gitdir, p)));

/**
 * Whether history that was cut before a commit whose parent is `cutAt` (a shallow fetch: see HistoryIndex.cutAt)
 * has since been fetched: then an index that starts there no longer says what git says.
 */
export const deepened = async (reader: GitReader, cutAt: string | undefined) =>
  cutAt !== undefined && await reader.commit(cutAt).then(() => true, () => false);

export interface Missing {
  /** The commits after the join, oldest first. */
  commits: string[];
  /** The newest commit the index knows on head's chain; undefined when the chain was followed to its root. */
  joined?: string;
}

/**
 * Follows head's first-parent chain back until a commit `known` accepts, or the root, or a commit that is not here
 * (history cut by a shallow fetch: what came before is unknown, as for History's walk), collecting at most `max`
 * commits; undefined when there are more.
 */
export async function missingCommits(reader: GitReader, head: string, known: (oid: string) => boolean, max = Infinity): Promise<Missing | undefined> {
  const commits: string[] = [];
  for (let oid: string | undefined = head; oid; ) {
    if (known(oid)) return { commits: commits.reverse(), joined: oid };
    if (commits.length >= max) return undefined;
    const c: CommitInfo | undefined = await reader.commit(oid).catch((e) => (oid === head ? Promise.reject(e) : undefined));
    if (!c) break;
    commits.push(oid);
    oid = c.parents[0];
  }
  return { commits: commits.reverse() };
}

/**
 * The records of `commits` (oldest first, each the first-parent child of the one before; the first of `after`, or
 * of nothing: a root, or where the chain is cut, compared with an empty tree).
 */
export async function recordsFor(reader: GitReader, commits: string[], after?: string): Promise<IndexRecord[]> {
  let parentTree = after ? (await reader.commit(after)).tree : undefined;
  const records: IndexRecord[] = [];
  for (const oid of commits) {
    const c = await reader.commit(oid);
    const changes = (await reader.diffTrees(parentTree, c.tree, 'clusters')).map((p) => (p.to ? { path: p.path, blob: p.to } : { path: p.path }));
    const cluster = clusterOfCommit(c.message);
    records.push({
      oid, ...(c.parents[0] && { parent: c.parents[0] }), committerTime: c.committer.timestamp, authorTime: c.author.timestamp,
      ...(cluster && { cluster }), changes,
    });
    parentTree = c.tree;
  }
  return records;
}
