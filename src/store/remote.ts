// Pushing to a shared remote. Many clusters push to one branch at once; each owns `clusters/<id>/`, so when a push
// is rejected we fetch the new remote head and re-make our unpushed commits on top of it, replacing only the
// subtrees of the clusters they recorded (isomorphic-git has no rebase; this is simpler and exact). No force push.
// What the remote has is what it advertises, not what we last pushed: a remote recreated empty gets our history
// whole, one force-pushed with another history gets our unpushed commits replayed on top of its head.
// isomorphic-git gets a fresh object cache per call: it keeps every pack it reads whole in the cache it is given.
import fs from 'node:fs';
import { readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import git from 'isomorphic-git';
// Only a person's merge commit still goes through isomorphic-git (see `send`); its fetch-based transport, as its
// node one gives up after 5 s without a byte, which a busy server exceeds.
import http from 'isomorphic-git/http/web';
import { clusterPrefix } from '../model/object-path.ts';
import { clusterOfCommit } from '../model/trailers.ts';
import { atomicWrite } from './atomic-write.ts';
import { commitTime } from './commit-time.ts';
import { BLOBLESS, fetchObjects, fetchRefs } from './fetch-pack.ts';
import { advertisedRefs, sendPack, SendPackError, type RefUpdate } from './send-pack.ts';
import { deleteRef, readRef, writeRef } from './refs.ts';
import type { CommitInfo, Repo } from './repo.ts';

export interface RemoteTarget { url: string; branch: string; username: string; token?: string }

export interface PushResult {
  commit?: string; attempts: number; replayed: number; upToDate: boolean;
  /** The `alongside` refs that moved with the branch's push. */
  alongside?: string[];
}

/** Another ref to move in the branch's push request, made from the value the remote has then (a cluster's render state). */
export interface Alongside { ref: string; update: (old: string | undefined) => RefUpdate }

const REMOTE = 'origin';
const PUSHED_REF = 'refs/kubetrail/remote-head'; // the newest commit known to be on the remote

/** Credentials go through onAuth only: never into URLs, .git/config, logs or errors. */
const auth = (t: RemoteTarget) => () => ({ username: t.username, password: t.token ?? '' });

export class PushError extends Error {}

function describe(e: unknown, target: RemoteTarget): string {
  const message = (e as Error).message ?? String(e);
  return target.token ? message.replaceAll(target.token, '***') : message;
}

/**
 * Fetches the remote branch (shallow: only its newest commit is needed) and returns its head, or undefined when
 * the remote branch does not exist yet. `also`: refs fetched in the same request and kept here under their own
 * names (deleted here when the remote has none), e.g. the clusters' render states (state-ref.ts). `blobless`: a
 * repository with no history yet becomes a partial clone (see syncFromRemote).
 */
async function fetchRemoteHead(repo: Repo, target: RemoteTarget, also: string[] = [], blobless = false): Promise<string | undefined> {
  await git.addRemote({ fs, gitdir: repo.gitdir, remote: REMOTE, url: target.url, force: true });
  // Commits held here with their trees: the server leaves out what they share (a daemon's retry fetches little).
  const known = await Promise.all(also.map((ref) => readRef(repo.gitdir, ref)));
  const haves = [...new Set([await repo.head(), await readRef(repo.gitdir, PUSHED_REF), ...known])].filter((oid): oid is string => !!oid);
  const to = { url: target.url, username: target.username, token: target.token };
  // A partial clone's reads fetch what it is missing, in this run and later ones.
  const fetchMissing = (oids: string[]) => fetchObjects(repo.gitdir, to, oids);
  const partial = await isPartialClone(repo);
  if (partial) repo.objects.lazyFetch = fetchMissing;
  for (let attempt = 1; ; attempt++) {
    try {
      const branch = `refs/heads/${target.branch}`;
      const fetched = await fetchRefs(repo.gitdir, to, [branch, ...also], haves, { blobless: blobless && haves.length === 0 && !partial });
      if (fetched.blobless) {
        await markPartialClone(repo);
        repo.objects.lazyFetch = fetchMissing;
      }
      for (const ref of also) await (fetched.heads.has(ref) ? writeRef(repo.gitdir, ref, fetched.heads.get(ref)!) : deleteRef(repo.gitdir, ref));
      return fetched.heads.get(branch);
    } catch (e) {
      // A busy or briefly unreachable server (a fleet's tick) gets a few tries; a refusal is final at once.
      const status = (e as { status?: number }).status;
      if (attempt >= FETCH_ATTEMPTS || status === 401 || status === 403 || status === 404) {
        throw new PushError(`cannot fetch ${target.url} (${target.branch}): ${describe(e, target)}`);
      }
      await sleep(backoffMs(attempt + 2));
    }
  }
}

const isPartialClone = async (repo: Repo) => (await git.getConfig({ fs, gitdir: repo.gitdir, path: 'extensions.partialClone' })) === REMOTE;

/**
 * Records the repository as a partial clone the way git does, so git (fsck, log -p) accepts the missing blobs and
 * fetches them when it needs them.
 */
async function markPartialClone(repo: Repo): Promise<void> {
  for (const [path, value] of [['core.repositoryformatversion', '1'], ['extensions.partialClone', REMOTE],
    [`remote.${REMOTE}.promisor`, 'true'], [`remote.${REMOTE}.partialclonefilter`, BLOBLESS]]) {
    await git.setConfig({ fs, gitdir: repo.gitdir, path, value });
  }
}

const FETCH_ATTEMPTS = 4;

/** Local commits not yet on the remote, oldest first: the first-parent chain down to the last known remote head. */
async function unpushedCommits(repo: Repo, stopAt: Set<string>): Promise<string[]> {
  const chain: string[] = [];
  let oid = await repo.head();
  while (oid && !stopAt.has(oid)) {
    chain.push(oid);
    const parents: string[] = (await repo.readCommit(oid).catch(() => undefined))?.parents ?? [];
    oid = parents[0];
  }
  return chain.reverse();
}

/**
 * Re-makes `commits` on top of `base`, each replacing only its cluster's subtree. Returns the new tip. Author time
 * stays when the cluster was read; committer time is now (never before the new parent's), so first-parent history
 * stays in time order.
 */
async function replay(repo: Repo, commits: string[], base: string): Promise<string> {
  let tip = base;
  for (const oid of commits) {
    const c = await repo.readCommit(oid);
    const clusterId = clusterOfCommit(c.message);
    if (!clusterId) {
      throw new PushError(`the remote branch moved and local commit ${oid.slice(0, 12)} is not kubetrail's: ` +
        `run \`git pull --rebase --unshallow\` in ${repo.dir}, then rerun kubetrail`);
    }
    const subtree = await repo.entryAt(c.tree, clusterPrefix(clusterId));
    const parent = await repo.readCommit(tip);
    const tree = await repo.replaceSubtree(parent.tree, clusterPrefix(clusterId), subtree);
    tip = await repo.writeCommit({
      tree, parents: [tip], message: c.message,
      author: { ...c.author, timezoneOffset: 0 },
      committer: { name: c.committer.name, email: c.committer.email, timestamp: commitTime(parent), timezoneOffset: 0 },
    });
  }
  return tip;
}

/**
 * Makes the branch's history pushable to a remote that has none of it (recreated empty, branch deleted).
 * A shallow fetch leaves commits whose parents were never fetched, listed in `.git/shallow`, and isomorphic-git's
 * push sends nothing below a listed commit. Entries for commits whose parents are here go; when the history
 * really ends at a commit with missing parents, that commit becomes a root and the commits above it are re-made
 * (same trees, authors, times and messages), so what is pushed is complete.
 */
async function makeHistoryComplete(repo: Repo): Promise<void> {
  const chain: CommitInfo[] = []; // newest first
  let truncated = false;
  for (let oid = await repo.head(); oid;) {
    const c: CommitInfo | undefined = await repo.readCommit(oid).catch(() => undefined);
    if (!c) {
      truncated = chain.length > 0;
      break;
    }
    chain.push(c);
    oid = c.parents[0];
  }
  if (truncated) {
    let tip: string | undefined;
    for (const c of [...chain].reverse()) {
      tip = await repo.writeCommit({ tree: c.tree, parents: tip ? [tip] : [], author: c.author, committer: c.committer, message: c.message });
    }
    await repo.updateBranch(chain[0].oid, tip!);
  }
  const shallowFile = join(repo.gitdir, 'shallow');
  const shallow = (await readFile(shallowFile, 'utf8').catch(() => '')).split('\n').filter(Boolean);
  const inChain = new Set(chain.map((c) => c.oid));
  const kept = shallow.filter((oid) => !inChain.has(oid));
  if (kept.length === shallow.length) return;
  if (kept.length === 0) return void await unlink(shallowFile);
  await atomicWrite(shallowFile, `${kept.join('\n')}\n`);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * How long to wait after the n-th lost race: "full jitter" (a uniform pick below an exponentially growing cap), so
 * a fleet that collided on one cron tick spreads out instead of colliding again in step.
 */
export const backoffMs = (attempt: number, random = Math.random()) => random * Math.min(BACKOFF_CAP_MS, 100 * 2 ** attempt);
const BACKOFF_CAP_MS = 5_000;

export interface RemoteOptions {
  /** Fails when the run lost its repository lock: called before the branch moves and before each push. */
  assertLocked?: () => Promise<void>;
}

/**
 * Pushes local commits; on rejection waits (backoff), fetches, re-applies on the new head and pushes again, at most
 * `attempts` pushes in all. The wait comes before the fetch, so the head we build on is as fresh as it can be.
 */
export async function pushWithRetry(repo: Repo, target: RemoteTarget, o: RemoteOptions & { attempts?: number; alongside?: Alongside[] } = {}): Promise<PushResult> {
  const attempts = o.attempts ?? 20;
  let replayed = 0;
  // The alongside refs go with the first attempt only: whatever made it fail (a lost race, or a server that will
  // not take them: a hook, a body size limit) must not cost the branch; the caller pushes those that did not move.
  let alongside = o.alongside;
  const moved = new Set<string>();
  for (let attempt = 1; ; attempt++) {
    const known = await readRef(repo.gitdir, PUSHED_REF);
    const pending = await unpushedCommits(repo, new Set(known ? [known] : []));
    if (pending.length === 0 || !await repo.head()) return { commit: await repo.head(), attempts: attempt - 1, replayed, upToDate: true, alongside: [...moved] };
    await o.assertLocked?.();
    if (!known && repo.objects.lazyFetch) {
      // Everything would go, other clusters' files too, and this run never fetched them (nor can it now).
      throw new PushError(`the remote branch ${target.branch} is gone or was recreated since this run fetched it without blobs ` +
        '(a CronJob\'s partial clone): nothing was pushed and nothing is lost; the next run from an empty volume starts from the remote as it is then');
    }
    if (!known) await makeHistoryComplete(repo); // the remote has none of it: everything goes
    const head = (await repo.head())!;
    try {
      for (const ref of await send(repo, target, known, pending, alongside)) moved.add(ref);
      await writeRef(repo.gitdir, PUSHED_REF, head);
      return { commit: head, attempts: attempt, replayed, upToDate: false, alongside: [...moved] };
    } catch (e) {
      for (const ref of (e as Partial<SendPackError>).moved ?? []) moved.add(ref);
      alongside = undefined;
      // The branch moved (someone else pushed first, or the server lost a race for its ref lock): fetch,
      // re-apply, push again. Only bad credentials are final at once.
      const status = (e as { status?: number }).status ?? (e as { data?: { statusCode?: number } }).data?.statusCode;
      if (status === 401 || status === 403) throw new PushError(`push to ${target.url} refused (${status}): check the token`);
      if (attempt >= attempts) {
        throw new PushError(`push to ${target.url} (${target.branch}) did not land in ${attempts} attempts (last: ${describe(e, target)}); ` +
          'the branch was not pushed and nothing is lost: the next run records the same state again. Many writers on one branch: ' +
          'set startJitterSeconds, or raise remote.pushAttempts');
      }
    }
    await sleep(backoffMs(attempt));
    // Someone else pushed first (take their head and put our commits on top of it), or the branch is gone
    // (recreated remote: send our history whole next time).
    const remoteHead = await fetchRemoteHead(repo, target);
    if (remoteHead) {
      const pendingNow = await unpushedCommits(repo, new Set([remoteHead, ...(known ? [known] : [])]));
      const tip = await replay(repo, pendingNow, remoteHead);
      await o.assertLocked?.();
      await repo.moveBranch(await repo.head(), tip); // the working tree follows the replayed branch
      await writeRef(repo.gitdir, PUSHED_REF, remoteHead);
      replayed += pendingNow.length;
    } else {
      await deleteRef(repo.gitdir, PUSHED_REF);
    }
  }
}

/**
 * Moves the remote branch from `known` (the remote head our commits sit on; undefined: the remote has none of them)
 * to our head, and the `alongside` refs in the same request. The server's current head is asked first: when it
 * moved, nothing is sent (the race is lost anyway). A merge commit (a person's, made locally) goes through
 * isomorphic-git, which sends whole histories. Returns the alongside refs that moved.
 */
async function send(repo: Repo, target: RemoteTarget, known: string | undefined, pending: string[], alongside: Alongside[] = []): Promise<Set<string>> {
  const ref = `refs/heads/${target.branch}`;
  const to = { url: target.url, username: target.username, token: target.token };
  const { refs, capabilities } = await advertisedRefs(to);
  const remoteNow = refs.get(ref);
  if (remoteNow === pending.at(-1)) return new Set(); // an earlier push landed and we did not get to record it
  if (remoteNow !== known) throw new SendPackError(`the remote branch is at ${remoteNow?.slice(0, 12) ?? 'nothing'} now`, { rejected: true });
  const commits = await Promise.all(pending.map((oid) => repo.readCommit(oid)));
  if (commits.some((c) => c.parents.length > 1)) {
    const res = await git.push({ fs, http, gitdir: repo.gitdir, remote: REMOTE, url: target.url, ref: repo.branch, remoteRef: target.branch, onAuth: auth(target), cache: {} });
    if (!res.ok) throw new SendPackError(res.error ?? 'push rejected', { rejected: true });
    return new Set();
  }
  const trees = new Map(await Promise.all(commits.map(async (c) => [c.oid, c.tree] as const)));
  const parentTree = async (c: CommitInfo) => c.parents[0] ? trees.get(c.parents[0]) ?? (await repo.readCommit(c.parents[0])).tree : undefined;
  const withTrees = await Promise.all(commits.map(async (c) => ({ oid: c.oid, tree: c.tree, parentTree: await parentTree(c) })));
  const others = alongside.map((a) => a.update(refs.get(a.ref)));
  return sendPack(to, repo.objects, [{ ref, old: known, commits: withTrees }, ...others], capabilities);
}

/**
 * Makes the local repository start from the remote's state: clone on an empty volume (a fresh CronJob pod),
 * otherwise fetch and move to the remote head when nothing local is unpushed (pending work is re-applied at push).
 * When the remote has no such branch (new, or recreated empty) nothing of ours is on it: the push sends it all.
 * `blobless`: an empty repository becomes a partial clone (`git clone --filter=blob:none --depth 1`) when the server
 * can filter: a run needs the head's trees, not every cluster's files; the few blobs it reads (the last version of
 * a changed object, for attribution; Secrets in sops mode) are fetched by id when read.
 */
export async function syncFromRemote(repo: Repo, target: RemoteTarget, o: RemoteOptions & { alsoFetch?: string[]; blobless?: boolean } = {}): Promise<Repo> {
  const remoteHead = await fetchRemoteHead(repo, target, o.alsoFetch, o.blobless);
  if (!remoteHead) {
    await deleteRef(repo.gitdir, PUSHED_REF);
    return repo;
  }
  const known = await readRef(repo.gitdir, PUSHED_REF);
  const local = await repo.head();
  const pending = local ? await unpushedCommits(repo, new Set([remoteHead, ...(known ? [known] : [])])) : [];
  // Strictly ahead (our oldest unpushed commit sits on the remote head, e.g. a person's `git commit`): keep it as is.
  const ahead = pending.length > 0 && (await repo.readCommit(pending[0])).parents[0] === remoteHead;
  const next = pending.length === 0 || !local ? remoteHead : ahead ? local : await replay(repo, pending, remoteHead);
  await o.assertLocked?.();
  if (next !== local) await repo.moveBranch(local, next); // checkout marker durable before the branch moves
  await writeRef(repo.gitdir, PUSHED_REF, remoteHead);
  return repo;
}
