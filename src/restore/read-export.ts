// An export of a cluster's recorded state at one point: the recorded objects (history/recorded.ts) planned for apply.
import type { GitReader } from '../history/reader.ts';
import { recordedObjects, type RecordedFilter } from '../history/recorded.ts';
import { customGroupsOf, planExport, type ExportPlan } from './export.ts';

const CRDS = 'apiextensions.k8s.io.*.CustomResourceDefinition';

export interface RecordedExport extends ExportPlan {
  /** The commit exported; undefined when `at` is before the first commit. */
  commit?: string;
  /** Whether the commit holds any file of the cluster. */
  clusterRecorded: boolean;
}

export async function exportRecorded(reader: GitReader, clusterId: string, at: string | undefined, filter: RecordedFilter): Promise<RecordedExport> {
  const { commit, clusterRecorded, objects } = await recordedObjects(reader, clusterId, at, filter);
  if (!commit) return { commit, clusterRecorded, objects: [], notRestorable: [] };
  // Which groups are custom is known from all recorded CRDs, also when the filter leaves them out.
  const crds = filter.type || filter.namespace ? (await recordedObjects(reader, clusterId, commit, { type: CRDS })).objects : objects;
  return { commit, clusterRecorded, ...planExport(objects, customGroupsOf(crds)) };
}
