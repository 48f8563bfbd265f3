// Pure: where an object lives in the repository, and back.
//   clusters/<clusterId>/<group.version.Kind>/<namespace | _cluster>/<name>.yaml
import { createHash } from 'node:crypto';

export const CLUSTER_SCOPED_DIR = '_cluster';
const MAX_FILE_NAME = 255; // bytes, the usual file-system limit
const EXT = '.yaml';

export const clusterPrefix = (clusterId: string) => `clusters/${clusterId}`;

/** A name as a file name: kept as is unless it cannot be one (too long, `/`, NUL, `.`/`..`), then shortened with a stable hash. */
export function fileNameFor(name: string): string {
  const plain = name + EXT;
  if (Buffer.byteLength(plain) <= MAX_FILE_NAME && !/[/\0]/.test(name) && name !== '.' && name !== '..' && name !== '') return plain;
  const hash = createHash('sha256').update(name).digest('hex').slice(0, 16);
  let stem = name.replace(/[/\0]/g, '_');
  const room = MAX_FILE_NAME - EXT.length - hash.length - 1;
  while (Buffer.byteLength(stem) > room) stem = stem.slice(0, -1);
  return `${stem}~${hash}${EXT}`;
}

/**
 * An object's path inside its cluster's directory. Joined, not a template: a sync keeps every path, and a
 * template's result is a tree of string pieces that keeps the object's name alive (half the memory, measured).
 */
export function pathInCluster(typeName: string, namespace: string | undefined, name: string): string {
  return [typeName, namespace || CLUSTER_SCOPED_DIR, fileNameFor(name)].join('/');
}

export function objectPath(clusterId: string, typeName: string, namespace: string | undefined, name: string): string {
  return `${clusterPrefix(clusterId)}/${pathInCluster(typeName, namespace, name)}`;
}

export interface ObjectLocation { clusterId: string; type: string; namespace: string | undefined; file: string }

/** Parses from the right: type names contain dots, and the file name is the last segment. */
export function parseObjectPath(path: string): ObjectLocation | undefined {
  const parts = path.split('/');
  if (parts.length !== 5 || parts[0] !== 'clusters' || !parts[4].endsWith(EXT)) return undefined;
  const [, clusterId, type, ns, file] = parts;
  return { clusterId, type, namespace: ns === CLUSTER_SCOPED_DIR ? undefined : ns, file };
}
