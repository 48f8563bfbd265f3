// The live state of a cluster exactly as a sync would record it (same discovery and selection, same reading,
// same normalize/redact/serialize), kept as `path → bytes` in memory and never written: what drift compares.
import type { ClusterConfig, Config } from '../config/types.ts';
import { resolveAccess } from '../kube/access.ts';
import { createKubeClient, type KubeClient } from '../kube/client.ts';
import { discoverSelectedTypes } from '../kube/discovery.ts';
import { namespaceAllowed } from '../kube/filter.ts';
import type { KubeObject } from '../model/kube-object.ts';
import type { ResourceType } from '../model/resource-type.ts';
import { objectId } from '../store/codec.ts';
import { mapLimit } from '../util/map-limit.ts';
import { readType } from './read-type.ts';
import { RenderCache } from './render-cache.ts';
import { typeRenderer } from './render.ts';

export interface LiveFilter {
  /** Reads only the types this accepts (a `--type` pattern). */
  type?: (type: ResourceType) => boolean;
  /** Only this namespace: cluster-scoped types are not read. */
  namespace?: string;
}

export interface LiveState {
  /** Path inside the cluster's directory → the bytes a sync would store. */
  files: Map<string, Buffer>;
  /** Types (or API groups) that could not be read: their drift is unknown. */
  failed: { type: string; reason: string }[];
}

export async function readLiveState(
  config: Config, cluster: ClusterConfig, filter: LiveFilter = {},
  o: {
    env?: Record<string, string | undefined>; client?: KubeClient;
    /** The recorded file at a path: a Secret in sops mode keeps its sealing when its values are the same. */
    previousFile?: (path: string) => Promise<Uint8Array | undefined>;
  } = {},
): Promise<LiveState> {
  let settings = cluster.discovery;
  const client = o.client ?? createKubeClient(cluster.id, resolveAccess(cluster, o.env), { timeoutMs: settings.requestTimeoutSeconds * 1000 });
  const discovery = await discoverSelectedTypes(client, settings);
  const failed = discovery.failedGroups.map((g) => ({ type: `${g.group || 'core'}.${g.version ?? '*'}.*`, reason: g.reason }));
  let types = discovery.selected.filter((t) => filter.type?.(t) ?? true);
  if (filter.namespace !== undefined) {
    // A namespace the sync leaves out has nothing live to compare.
    types = namespaceAllowed(filter.namespace, settings) ? types.filter((t) => t.namespaced) : [];
    settings = { ...settings, namespaces: [filter.namespace] };
  }
  const renderer = typeRenderer(config, cluster, o.previousFile);
  // No recorded files, and a cache that loads nothing (no such directory) and is never closed (so never saved):
  // every object is read and rendered in full, and nothing is written anywhere.
  const cache = new RenderCache('/nonexistent/kubetrail-drift', cluster.id, 'drift');
  const source = { client, settings, cache, before: new Map<string, string>() };
  const files = new Map<string, Buffer>();
  await mapLimit(types, settings.concurrency, async (type) => {
    const { render, ignoresObject } = renderer.forType(type);
    const bytes = new Map<string, Buffer>();
    const keep = (b: Buffer) => {
      const oid = objectId('blob', b);
      bytes.set(oid, b);
      return oid;
    };
    const blobOf = (obj: KubeObject) => {
      const rendered = render(obj);
      return rendered instanceof Promise ? rendered.then((r) => keep(r.bytes)) : keep(rendered.bytes);
    };
    try {
      for (const [path, oid] of await readType({ ...source, ignoresObject }, type, blobOf, false)) files.set(path, bytes.get(oid)!);
    } catch (e) {
      failed.push({ type: type.name, reason: (e as Error).message });
    }
  });
  return { files, failed };
}
