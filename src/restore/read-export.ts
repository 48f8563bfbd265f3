// An export of a cluster's recorded state at one point: the recorded objects (history/recorded.ts) planned for apply.
import type { GitReader } from '../history/reader.ts';
import { recordedObjects, type RecordedFilter } from '../history/recorded.ts';
import { isSopsSealed, openSopsDocument } from '../secrets/sops.ts';
import { customGroupsOf, planExport, type ExportPlan } from './export.ts';

const CRDS = 'apiextensions.k8s.io.*.CustomResourceDefinition';

export interface RecordedExport extends ExportPlan {
  /** The commit exported; undefined when `at` is before the first commit. */
  commit?: string;
  /** Whether the commit holds any file of the cluster. */
  clusterRecorded: boolean;
}

/** `identities` (age secret keys): SOPS-sealed Secrets are decrypted and exported as plain Secrets. */
export async function exportRecorded(
  reader: GitReader, clusterId: string, at: string | undefined, filter: RecordedFilter, identities?: string[],
): Promise<RecordedExport> {
  const recorded = await recordedObjects(reader, clusterId, at, filter);
  const { commit, clusterRecorded } = recorded;
  if (!commit) return { commit, clusterRecorded, objects: [], notRestorable: [], sealed: [] };
  const objects = identities?.length
    ? await Promise.all(recorded.objects.map(async (o) => (isSopsSealed(o.object) ? { ...o, object: await openSopsDocument(o.object as never, identities) as typeof o.object } : o)))
    : recorded.objects;
  // Which groups are custom is known from all recorded CRDs, also when the filter leaves them out.
  const crds = filter.type || filter.namespace ? (await recordedObjects(reader, clusterId, commit, { type: CRDS })).objects : objects;
  return { commit, clusterRecorded, ...planExport(objects, customGroupsOf(crds)) };
}
