// Pure: what the timeline shows of a page of commits — counts by type, the managers named, and the time axis buckets.
import type { CommitChanges, ObjectChange } from '../history/queries.ts';

export interface TypeCount { type: string; added: number; changed: number; deleted: number }

export interface TimelineEntry {
  commit: string; time: string; subject: string; clusterIds: string[];
  types: TypeCount[]; managers: string[]; objects: ObjectChange[];
  /** All the objects the commit changed when only the first were listed (counts and managers are of those). */
  objectsTotal?: number;
}

export function timelineEntry(c: CommitChanges): TimelineEntry {
  const types = new Map<string, TypeCount>();
  const managers = new Set<string>();
  for (const o of c.objects) {
    let t = types.get(o.type);
    if (!t) types.set(o.type, t = { type: o.type, added: 0, changed: 0, deleted: 0 });
    t[o.kind]++;
    for (const m of o.managers ?? []) managers.add(m.manager);
  }
  return {
    commit: c.commit, time: c.time, subject: c.subject, clusterIds: [...new Set(c.objects.map((o) => o.clusterId))],
    types: [...types.values()].sort((a, b) => (a.type < b.type ? -1 : 1)), managers: [...managers].sort(), objects: c.objects,
    ...(c.objectsTotal !== undefined && { objectsTotal: c.objectsTotal }),
  };
}

/** Keeps only the objects whose name contains `name` (case-insensitive); commits left with none are dropped. */
export function withName(commits: CommitChanges[], name: string | undefined): CommitChanges[] {
  if (!name) return commits;
  const needle = name.toLowerCase();
  return commits.map((c) => ({ ...c, objects: c.objects.filter((o) => o.name.toLowerCase().includes(needle)) })).filter((c) => c.objects.length);
}

export interface Bucket { start: number; end: number; commits: number }

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const MIN_BUCKETS = 24;

export const bucketName = (b: Bucket) => (b.end - b.start <= HOUR ? 'hour' : b.end - b.start <= DAY ? 'day' : '30 days');

/** Commits per hour (a span up to two days), per day (up to 400) or per 30 days, oldest first: the time axis. */
export function timeBuckets(times: string[]): Bucket[] {
  if (!times.length) return [];
  const ms = times.map((t) => Date.parse(t));
  const span = Math.max(...ms) - Math.min(...ms);
  const size = span <= 2 * DAY ? HOUR : span <= 400 * DAY ? DAY : 30 * DAY;
  // At least 24 buckets, ending at the newest: a few commits still show where they sit in time.
  const last = Math.floor(Math.max(...ms) / size) * size;
  const first = Math.min(Math.floor(Math.min(...ms) / size) * size, last - (MIN_BUCKETS - 1) * size);
  const count = (last - first) / size + 1;
  const buckets = Array.from({ length: count }, (_, i) => ({ start: first + i * size, end: first + (i + 1) * size, commits: 0 }));
  for (const t of ms) buckets[Math.floor((t - first) / size)].commits++;
  return buckets;
}
