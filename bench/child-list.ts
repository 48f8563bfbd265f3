// The floor: paginated raw LIST of every type a sync reads (request + JSON parse), nothing else. Own process.
// With --metadata, the same lists as PartialObjectMetadataList: what a sync after the first reads.
// Set up as the kubetrail executable is (src/cli.ts): client-node loads lean, so the rest is imported after.
import '../src/runtime/lean-client-node.ts';

const { loadConfig } = await import('../src/config/load.ts');
const { resolveAccess } = await import('../src/kube/access.ts');
const { createKubeClient } = await import('../src/kube/client.ts');
const { discoverTypes } = await import('../src/kube/discovery.ts');
const { selectTypes } = await import('../src/kube/filter.ts');
const { mapLimit } = await import('../src/util/map-limit.ts');
const { cpuMs } = await import('./cpu.ts');

const config = loadConfig({ config: process.argv[2] });
const accept = process.argv.includes('--metadata') ? 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json' : undefined;
const cluster = config.clusters[0];
const client = createKubeClient(cluster.id, resolveAccess(cluster));
const { selected } = selectTypes((await discoverTypes(client)).types, cluster.discovery, new Set());
// The best order for the floor too: largest types first (counted before the clock starts), as a sync orders
// them from its previous run.
const size = async (listPath: string) => {
  const page = JSON.parse((await client.request(`${listPath}?limit=1`)).body.toString('utf8'));
  return page.items.length + (page.metadata.remainingItemCount ?? 0);
};
const sizes = new Map(await Promise.all(selected.map(async (t) => [t.name, await size(t.listPath)] as const)));
selected.sort((a, b) => sizes.get(b.name)! - sizes.get(a.name)!);
const started = performance.now();
const cpu = process.cpuUsage();
const mainCpu = process.threadCpuUsage();
let objects = 0;
let bytes = 0;
await mapLimit(selected, cluster.discovery.concurrency, async (type) => {
  let cont = '';
  do {
    const res = await client.request(`${type.listPath}?limit=${cluster.discovery.pageSize}${cont ? `&continue=${encodeURIComponent(cont)}` : ''}`, { accept });
    bytes += res.body.length;
    const page = JSON.parse(res.body.toString('utf8')) as { items: unknown[] | null; metadata: { continue?: string } };
    objects += page.items?.length ?? 0; // an empty metadata-only list has "items": null
    cont = page.metadata.continue ?? '';
  } while (cont);
});
const ms = performance.now() - started;
console.log(JSON.stringify({ ms, ...cpuMs(cpu, mainCpu), objects, bytes, maxRssMB: process.resourceUsage().maxRSS / 1024 }));
