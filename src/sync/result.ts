// What one cluster's sync reports (the file comparison behind its counts lives in store/files.ts), and its commit message.
import { countManagers, formatAttribution, UNKNOWN, type Attribution } from '../attribution/managed-fields.ts';
import { describeWriter } from '../audit/audit-log.ts';
import { CLUSTER_SCOPED_DIR } from '../model/object-path.ts';
import { formatTrailers } from '../model/trailers.ts';
import type { FileChanges } from '../store/files.ts';

export type SyncStatus = 'complete' | 'partial' | 'failed' | 'refused';

export interface TypeCounts { objects: number; added: number; changed: number; deleted: number }

/** A sync that would delete more than `maxDeletePercent` of the cluster's recorded objects. */
export interface MassDeletion { deleted: number; recorded: number; maxDeletePercent: number }

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
  /**
   * Set when the sync would delete more than `maxDeletePercent` of the recorded objects: it was refused (status
   * `refused`), or in pull-request mode committed for review only (see review/run.ts).
   */
  massDeletion?: MassDeletion;
  /** Changed paths (relative to the cluster's subtree), for dry runs and event handlers. */
  changes: FileChanges;
}

export { compareFiles, type FileChanges } from '../store/files.ts';

const typeOf = (relPath: string) => relPath.slice(0, relPath.indexOf('/'));

/** `apps.v1.Deployment shop/checkout` (cluster-scoped: `core.v1.Namespace shop`) for a path in a cluster's subtree. */
function objectLabel(relPath: string): string {
  const [type, ns, file] = relPath.split('/');
  const name = file.replace(/\.yaml$/, '');
  return `${type} ${ns === CLUSTER_SCOPED_DIR ? name : `${ns}/${name}`}`;
}

/** Paths listed in a commit message (each with its managers, when known): the rest are counted. */
export const LISTED_PATHS = 200;

/**
 * Pure: the commit message: a countable subject, up to LISTED_PATHS paths grouped by type (with who changed them,
 * when `attribution` is given: see attribution/), and machine-readable trailers.
 */
export function commitMessage(clusterId: string, changes: FileChanges, failedTypes: string[], attribution?: Map<string, Attribution>): string {
  const subject = `${clusterId}: +${changes.added.length} ~${changes.changed.length} -${changes.deleted.length}`;
  const marked = [
    ...changes.added.map((p) => ({ p, m: '+' })),
    ...changes.changed.map((p) => ({ p, m: '~' })),
    ...changes.deleted.map((p) => ({ p, m: '-' })),
  ].sort((a, b) => (a.p < b.p ? -1 : 1));
  const byType = new Map<string, string[]>();
  for (const { p, m } of marked.slice(0, LISTED_PATHS)) {
    const type = typeOf(p);
    const who = attribution ? `  (${formatAttribution(attribution.get(p) ?? UNKNOWN)})` : '';
    byType.set(type, [...(byType.get(type) ?? []), `  ${m} ${p.slice(type.length + 1)}${who}`]);
  }
  const body = [...byType].map(([type, lines]) => `${type}\n${lines.join('\n')}`).join('\n\n');
  const more = marked.length > LISTED_PATHS ? `\n\n… and ${marked.length - LISTED_PATHS} more` : '';
  const trailers = formatTrailers({
    cluster: clusterId, added: changes.added.length, changed: changes.changed.length, deleted: changes.deleted.length, failedTypes,
    managers: attribution && countManagers(marked.map(({ p }) => attribution.get(p) ?? UNKNOWN)),
    changedBy: marked.slice(0, LISTED_PATHS).flatMap(({ p }) => {
      const w = attribution?.get(p)?.changedBy;
      return w ? [`${describeWriter(w)} ${objectLabel(p)}`] : [];
    }),
  });
  return `${subject}\n\n${body}${more}\n\n${trailers}\n`;
}
