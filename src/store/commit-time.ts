// Committer time keeps first-parent history in time order: a commit is made now, but never before its parent
// (a replayed commit lands on a head another host made, whose clock may run ahead of ours).
import type { CommitInfo } from './repo.ts';

/** Seconds since the epoch for the committer line of a commit on top of `parent`. */
export function commitTime(parent: Pick<CommitInfo, 'committer'> | undefined, now = Date.now()): number {
  return Math.max(Math.floor(now / 1000), parent?.committer.timestamp ?? 0);
}
