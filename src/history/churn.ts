// Which objects and field paths changed most often in the history: the numbers to pick noise rules from.
// Walks first-parent history newest first, reusing History's per-commit field diffs.
import { clusterPrefix } from '../model/object-path.ts';
import type { History } from './queries.ts';

export interface ChurnField { path: string; changes: number }

export interface ChurnObject {
  clusterId: string; type: string; namespace?: string; name: string; path: string;
  /** Commits that added, changed or deleted it. */
  changes: number;
  /** Field paths (as `ignoreFields` takes them) by how many commits changed them. */
  fields: ChurnField[];
}

export interface ChurnTypeField { type: string; path: string; changes: number; objects: number }

export interface ChurnReport {
  clusterId?: string;
  /** The oldest commit time looked at (ISO), when a limit was given. */
  since?: string;
  commits: number;
  objects: ChurnObject[];
  /** Field paths by type over all objects of the type: one rule for the type would silence them all. */
  fields: ChurnTypeField[];
}

const byChanges = <T extends { changes: number }>(a: T, b: T) => b.changes - a.changes;

export async function churn(history: History, q: { clusterId?: string; since?: Date; limit?: number }): Promise<ChurnReport> {
  const limit = q.limit ?? 20;
  const prefix = q.clusterId ? clusterPrefix(q.clusterId) : 'clusters';
  const objects = new Map<string, ChurnObject & { fieldCounts: Map<string, number> }>();
  const typeFields = new Map<string, ChurnTypeField & { seen: Set<string> }>();
  let commits = 0;
  for await (const c of history.reader.commitsFrom()) {
    if (q.since && c.committer.timestamp * 1000 < q.since.getTime()) break;
    const changes = await history.commitChanges(c.oid, prefix);
    if (changes.length === 0) continue;
    commits++;
    for (const ch of changes) {
      let o = objects.get(ch.path);
      if (!o) {
        objects.set(ch.path, o = {
          clusterId: ch.clusterId, type: ch.type, namespace: ch.namespace, name: ch.name, path: ch.path, changes: 0, fields: [], fieldCounts: new Map(),
        });
      }
      o.changes++;
      if (ch.kind !== 'changed') continue; // a new or deleted object has no field that changed
      const paths = new Set([...ch.diff.added, ...ch.diff.removed, ...ch.diff.updated].map((d) => d.path));
      for (const path of paths) {
        o.fieldCounts.set(path, (o.fieldCounts.get(path) ?? 0) + 1);
        const key = `${ch.type}\n${path}`;
        let t = typeFields.get(key);
        if (!t) typeFields.set(key, t = { type: ch.type, path, changes: 0, objects: 0, seen: new Set() });
        t.changes++;
        if (!t.seen.has(ch.path)) (t.seen.add(ch.path), t.objects++);
      }
    }
  }
  const top = [...objects.values()].sort(byChanges).slice(0, limit).map(({ fieldCounts, ...o }) => ({
    ...o, fields: [...fieldCounts].map(([path, changes]) => ({ path, changes })).sort(byChanges).slice(0, limit),
  }));
  const fields = [...typeFields.values()].sort(byChanges).slice(0, limit).map(({ seen: _, ...t }) => t);
  return { clusterId: q.clusterId, since: q.since?.toISOString(), commits, objects: top, fields };
}

/** `24h`, `30m`, `7d`, `90s`, or an ISO time. */
export function parseSince(text: string, now = new Date()): Date | undefined {
  const m = /^(\d+)([smhd])$/.exec(text);
  if (m) return new Date(now.getTime() - Number(m[1]) * { s: 1e3, m: 60e3, h: 3600e3, d: 86400e3 }[m[2] as 's' | 'm' | 'h' | 'd']);
  const t = Date.parse(text);
  return /^\d{4}-\d{2}-\d{2}/.test(text) && !Number.isNaN(t) ? new Date(t) : undefined;
}
