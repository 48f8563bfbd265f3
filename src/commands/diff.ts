// `kubetrail diff`: live state, read as a sync reads it, against the recorded state. Exit codes as diff(1) and
// `kubectl diff`: 0 no drift, 1 drift, 2 error (also when some types could not be read: their drift is unknown).
// Reads only: no lock, no object, ref, index or cache file is written.
import { loadConfig, type ConfigFlags } from '../config/load.ts';
import { compareStates } from '../drift/compare.ts';
import { RequestError } from '../errors.ts';
import { recordedFiles, recordedPathFilter } from '../history/recorded.ts';
import { compileTypePattern } from '../model/type-name.ts';
import { readLiveState } from '../sync/read-live.ts';
import { openRepoToRead } from './open-repo.ts';
import { UsageError } from './usage.ts';

export interface DiffOptions {
  flags: ConfigFlags;
  clusterId?: string;
  at?: string;
  type?: string;
  namespace?: string;
  json?: boolean;
}

export async function diffCommand(o: DiffOptions): Promise<number> {
  try {
    return await drift(o);
  } catch (e) {
    console.error(`kubetrail: ${(e as Error).message ?? e}`);
    return 2;
  }
}

async function drift(o: DiffOptions): Promise<number> {
  const config = loadConfig(o.flags);
  const ids = config.clusters.map((c) => c.id);
  if (!o.clusterId && ids.length > 1) throw new UsageError(`several clusters are configured: give --cluster (one of ${ids.join(', ')})`);
  const cluster = config.clusters.find((c) => c.id === (o.clusterId ?? ids[0]));
  if (!cluster) throw new UsageError(`unknown cluster ${o.clusterId} (configured: ${ids.join(', ')})`);
  let keepPath;
  try {
    keepPath = recordedPathFilter({ type: o.type, namespace: o.namespace });
  } catch (e) {
    throw new UsageError(`--type: ${(e as RequestError).message}`);
  }
  const pattern = o.type ? compileTypePattern(o.type) : undefined;
  const reader = await openRepoToRead(config);
  let recorded;
  try {
    recorded = await recordedFiles(reader, cluster.id, o.at, { type: o.type, namespace: o.namespace });
  } catch (e) {
    if (e instanceof RequestError) throw new UsageError(`--at: ${e.message}`);
    throw e;
  }
  if (!recorded.commit) throw new Error(`nothing recorded${o.at ? ` at or before ${o.at}` : ''} in ${config.repo}`);
  if (!recorded.clusterRecorded) throw new Error(`cluster ${cluster.id} has no recorded state at commit ${recorded.commit.slice(0, 10)} (run kubetrail sync first)`);
  const recordedTexts = new Map<string, string>();
  for (const f of recorded.files) recordedTexts.set(f.path, await reader.blobText(f.blob));

  const live = await readLiveState(config, cluster, { type: pattern && ((t) => pattern.matches(t)), namespace: o.namespace }, {
    previousFile: async (path) => (recordedTexts.has(path) ? Buffer.from(recordedTexts.get(path)!) : undefined),
  });
  const liveTexts = new Map([...live.files].filter(([p]) => keepPath(p)).map(([p, b]) => [p, b.toString('utf8')]));
  const changes = compareStates(recordedTexts, liveTexts);

  if (o.json) {
    console.log(JSON.stringify({
      clusterId: cluster.id, commit: recorded.commit, drift: changes.length > 0,
      objects: changes.map(({ unified: _u, ...c }) => c), failed: live.failed,
    }, null, 2));
  } else {
    for (const c of changes) process.stdout.write(c.unified);
  }
  for (const f of live.failed) console.error(`kubetrail: ${f.type} could not be read, its drift is unknown: ${f.reason}`);
  if (live.failed.length) return 2;
  return changes.length > 0 ? 1 : 0;
}
