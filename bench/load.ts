// The objects every bench loads: ConfigMaps of 1-4 KiB of realistic-looking configuration in 20 namespaces.
import type { KubeClient } from '../src/kube/client.ts';
import { mapLimit } from '../src/util/map-limit.ts';

export const payload = (i: number): Record<string, string> => {
  const size = 1024 + ((i * 7919) % 3072);
  const line = `feature.flag.${i}=enabled; endpoint=https://svc-${i % 50}.internal:8443/api; timeout=30s\n`;
  return { 'app.properties': line.repeat(Math.ceil(size / line.length)).slice(0, size), LOG_LEVEL: i % 3 ? 'info' : 'debug', replicas: String(i % 5 + 1) };
};

export const benchNamespace = (i: number) => `bench-${i % 20}`;
export const configMap = (i: number, data: Record<string, string> = payload(i)) =>
  ({ metadata: { name: `config-${i}`, labels: { app: `app-${i % 40}` } }, data });

/** Creates ConfigMaps `from` … `n - 1` (and the 20 namespaces, which may exist already). */
export async function loadConfigMaps(client: KubeClient, n: number, from = 0, log: (s: string) => void = () => {}): Promise<void> {
  const started = performance.now();
  for (let ns = 0; ns < 20; ns++) await client.request('/api/v1/namespaces', { method: 'POST', body: { metadata: { name: benchNamespace(ns) } } });
  await mapLimit(Array.from({ length: n - from }, (_, k) => k + from), 64, async (i) => {
    const res = await client.request(`/api/v1/namespaces/${benchNamespace(i)}/configmaps`, { method: 'POST', body: configMap(i) });
    if (res.status !== 201) throw new Error(`create config-${i}: ${res.status}`);
  });
  log(`created ${n - from} ConfigMaps in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}
