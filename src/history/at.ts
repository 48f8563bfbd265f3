// Pure: what an `at=` parameter names — the head, a commit id, an abbreviated one or a time — checked once for
// both ways of answering it (the index, or walking commits; GitReader.resolve says what each means).
import { RequestError } from '../errors.ts';

export type At = { head: true } | { commit: string } | { prefix: string } | { time: number };

export function parseAt(at: string | undefined): At {
  if (at === undefined || at === '') return { head: true };
  if (/^[0-9a-f]{40}$/.test(at)) return { commit: at };
  if (/^[0-9a-f]{4,39}$/.test(at)) return { prefix: at };
  const time = Date.parse(at);
  if (!/^\d{4}-\d{2}-\d{2}/.test(at) || Number.isNaN(time)) throw new RequestError(400, 'bad_at', `"${at}" is neither a commit id nor an ISO time`);
  return { time };
}

export const prefixNotFound = (prefix: string) => new RequestError(404, 'commit_not_found', `no commit ${prefix} on the branch`);
