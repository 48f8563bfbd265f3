// What a first sync adds to the floor, measured alone: the same objects rendered (normalize + YAML), hashed
// (SHA-1) and compressed (zlib) with the sync's own functions, with no network and no disk. Own process.
import '../src/runtime/lean-client-node.ts';

const { loadConfig } = await import('../src/config/load.ts');
const { resolveAccess } = await import('../src/kube/access.ts');
const { createKubeClient } = await import('../src/kube/client.ts');
const { discoverTypes } = await import('../src/kube/discovery.ts');
const { selectTypes } = await import('../src/kube/filter.ts');
const { compileTypePattern, matchesAny } = await import('../src/model/type-name.ts');
const { renderObject } = await import('../src/sync/sync.ts');
const { deflate, objectId } = await import('../src/store/codec.ts');

const config = loadConfig({ config: process.argv[2] });
const cluster = config.clusters[0];
const client = createKubeClient(cluster.id, resolveAccess(cluster));
const { selected } = selectTypes((await discoverTypes(client)).types, cluster.discovery, new Set());
const keepStatus = cluster.discovery.keepStatus.map(compileTypePattern);
const hmacKey = config.secrets.unsafeStorePlaintextSecrets ? undefined : config.secrets.hmacKey ?? '';
const totals = { objects: 0, renderMs: 0, hashMs: 0, deflateMs: 0 };
const timed = <T>(key: 'renderMs' | 'hashMs' | 'deflateMs', fn: () => T): T => {
  const started = performance.now();
  const value = fn();
  totals[key] += performance.now() - started;
  return value;
};
// Page by page, as a sync holds them: only the clock runs differently (stopped while a page is read).
for (const type of selected) {
  const keep = matchesAny(keepStatus, type) !== undefined;
  let cont = '';
  do {
    const page = await client.getJSON<{ items: Record<string, unknown>[] | null; metadata: { continue?: string } }>(
      `${type.listPath}?limit=${cluster.discovery.pageSize}${cont ? `&continue=${encodeURIComponent(cont)}` : ''}`);
    const items = page.items ?? [];
    for (const obj of items) {
      obj.apiVersion ??= type.group ? `${type.group}/${type.version}` : type.version;
      obj.kind ??= type.kind;
    }
    const blobs = timed('renderMs', () => items.map((obj) => renderObject(obj, { keepStatus: keep, hmacKey })));
    timed('hashMs', () => blobs.forEach((b) => objectId('blob', b)));
    timed('deflateMs', () => blobs.forEach((b) => deflate(b)));
    totals.objects += items.length;
    cont = page.metadata.continue ?? '';
  } while (cont);
}
console.log(JSON.stringify(totals));
