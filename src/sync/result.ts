// What one cluster's sync reports, and the pure comparison that produces its counts.
import type { FileMap } from '../store/repo.ts';

export type SyncStatus = 'complete' | 'partial' | 'failed' | 'refused';

export interface TypeCounts { objects: number; added: number; changed: number; deleted: number }

export interface SyncResult {
  clusterId: string;
  status: SyncStatus;
  dryRun: boolean;
  commit?: string; // set when a commit was made
  added: number;
  changed: number;
  deleted: number;
  unchanged: number;
  blobsWritten: number;
  failedTypes: { type: string; reason: string }[];
  types: Record<string, TypeCounts>;
  durationMs: number;
  error?: string;
  /** Changed paths (relative to the cluster's subtree), for dry runs and event handlers. */
  changes: FileChanges;
}

export interface FileChanges { added: string[]; changed: string[]; deleted: string[] }

/** Pure: what changed between two `path → blob id` maps. */
export function compareFiles(before: FileMap, after: FileMap): FileChanges & { unchanged: number } {
  const changes: FileChanges & { unchanged: number } = { added: [], changed: [], deleted: [], unchanged: 0 };
  for (const [path, oid] of after) {
    const old = before.get(path);
    if (old === undefined) changes.added.push(path);
    else if (old !== oid) changes.changed.push(path);
    else changes.unchanged++;
  }
  for (const path of before.keys()) if (!after.has(path)) changes.deleted.push(path);
  for (const list of [changes.added, changes.changed, changes.deleted]) list.sort();
  return changes;
}

const typeOf = (relPath: string) => relPath.slice(0, relPath.indexOf('/'));

/** Pure: the commit message: a countable subject, up to 50 paths grouped by type, and machine-readable trailers. */
export function commitMessage(clusterId: string, changes: FileChanges, failedTypes: string[]): string {
  const subject = `${clusterId}: +${changes.added.length} ~${changes.changed.length} -${changes.deleted.length}`;
  const marked = [
    ...changes.added.map((p) => ({ p, m: '+' })),
    ...changes.changed.map((p) => ({ p, m: '~' })),
    ...changes.deleted.map((p) => ({ p, m: '-' })),
  ].sort((a, b) => (a.p < b.p ? -1 : 1));
  const byType = new Map<string, string[]>();
  for (const { p, m } of marked.slice(0, 50)) {
    const type = typeOf(p);
    byType.set(type, [...(byType.get(type) ?? []), `  ${m} ${p.slice(type.length + 1)}`]);
  }
  const body = [...byType].map(([type, lines]) => `${type}\n${lines.join('\n')}`).join('\n\n');
  const more = marked.length > 50 ? `\n\n… and ${marked.length - 50} more` : '';
  const trailers = [
    `Kubetrail-Cluster: ${clusterId}`,
    `Kubetrail-Added: ${changes.added.length}`,
    `Kubetrail-Changed: ${changes.changed.length}`,
    `Kubetrail-Deleted: ${changes.deleted.length}`,
    `Kubetrail-Failed-Types: ${failedTypes.length ? failedTypes.join(', ') : 'none'}`,
  ].join('\n');
  return `${subject}\n\n${body}${more}\n\n${trailers}\n`;
}
