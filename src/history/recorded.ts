// The objects a cluster's history holds at one point (a commit or a time), filtered by type pattern and
// namespace: what export writes out and drift compares live state with.
import { parseYaml } from '../snapshot/parse.ts';
import { RequestError } from '../errors.ts';
import type { KubeObject } from '../model/kube-object.ts';
import { CLUSTER_SCOPED_DIR, clusterPrefix, namespaceDirFor } from '../model/object-path.ts';
import { compileTypePattern, parseTypeName, type TypePattern } from '../model/type-name.ts';
import type { GitReader } from './reader.ts';

export interface RecordedFilter {
  /** A type pattern (`apps.*`, `core.v1.ConfigMap`); undefined: every type. */
  type?: string;
  /** Only this namespace (cluster-scoped objects are left out); undefined: all. */
  namespace?: string;
}

export interface RecordedFile {
  /** Path inside the cluster's directory: `<type>/<namespace | _cluster>/<file>`. */
  path: string;
  type: string;
  namespace?: string;
  blob: string;
}

export interface RecordedObject extends RecordedFile { name: string; text: string; object: KubeObject }

/** The filter as a predicate on paths inside a cluster's directory; a bad pattern is a 400 naming it. */
export function recordedPathFilter(filter: RecordedFilter): (path: string) => boolean {
  let pattern: TypePattern | undefined;
  try {
    pattern = filter.type ? compileTypePattern(filter.type) : undefined;
  } catch (e) {
    throw new RequestError(400, 'bad_type', (e as Error).message);
  }
  const nsDir = filter.namespace === undefined ? undefined : namespaceDirFor(filter.namespace);
  return (path) => {
    const [type, ns] = path.split('/');
    const t = parseTypeName(type);
    if (pattern && !(t && pattern.matches(t))) return false;
    return nsDir === undefined || (ns === nsDir && ns !== CLUSTER_SCOPED_DIR);
  };
}

/** The commit `at` resolves to (undefined: before the first commit) and the cluster's files there that pass the filter. */
export async function recordedFiles(reader: GitReader, clusterId: string, at: string | undefined, filter: RecordedFilter) {
  const keep = recordedPathFilter(filter);
  const commit = await reader.resolve(at);
  const files: RecordedFile[] = [];
  const root = commit && await reader.lookup((await reader.commit(commit)).tree, clusterPrefix(clusterId));
  for (const [type, t] of root ? await reader.tree(root) : []) {
    if (!t.isTree) continue;
    for (const [ns, n] of await reader.tree(t.oid)) {
      if (!n.isTree) continue;
      for (const [file, f] of await reader.tree(n.oid)) {
        const path = `${type}/${ns}/${file}`;
        if (f.isTree || !keep(path)) continue;
        files.push({ path, type, namespace: ns === CLUSTER_SCOPED_DIR ? undefined : ns, blob: f.oid });
      }
    }
  }
  return { commit, clusterRecorded: root !== undefined, files };
}

/** As recordedFiles, with each file read and parsed. */
export async function recordedObjects(reader: GitReader, clusterId: string, at: string | undefined, filter: RecordedFilter) {
  const { files, ...rest } = await recordedFiles(reader, clusterId, at, filter);
  const objects: RecordedObject[] = [];
  for (const f of files) {
    const text = await reader.blobText(f.blob);
    const object = (parseYaml(text) ?? {}) as KubeObject;
    const name = typeof object.metadata?.name === 'string' ? object.metadata.name : f.path.slice(f.path.lastIndexOf('/') + 1).replace(/\.yaml$/, '');
    // The real namespace is in the file (a directory name may be encoded, see model/object-path.ts).
    const namespace = f.namespace === undefined ? undefined : object.metadata?.namespace ?? f.namespace;
    objects.push({ ...f, namespace, name, text, object });
  }
  return { ...rest, objects };
}
