// Fast, concurrent creation of test objects through raw HTTP.
import type { KubeClient } from '../../src/kube/client.ts';
import { mapLimit } from '../../src/util/map-limit.ts';

export async function createMany(client: KubeClient, collection: string, objects: unknown[], concurrency = 32): Promise<void> {
  await mapLimit(objects, concurrency, async (obj) => {
    const res = await client.request(collection, { method: 'POST', body: obj });
    if (res.status !== 201 && res.status !== 409) throw new Error(`POST ${collection}: ${res.status} ${res.body.toString().slice(0, 200)}`);
  });
}

export async function waitForEndpoint(client: KubeClient, path: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if ((await client.request(path)).status === 200) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${path} never became available`);
}

/** A CRD served at v1beta1 and v1 (v1 preferred), namespaced, accepting any fields. */
export function crdManifest(group: string, kind: string, plural: string, versions = ['v1']) {
  return {
    apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition',
    metadata: { name: `${plural}.${group}` },
    spec: {
      group, scope: 'Namespaced', names: { kind, plural, singular: kind.toLowerCase(), listKind: `${kind}List` },
      versions: versions.map((name) => ({
        name, served: true, storage: name === versions.at(-1),
        schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
      })),
    },
  };
}

export async function createCrd(client: KubeClient, group: string, kind: string, plural: string, versions = ['v1']): Promise<void> {
  await createMany(client, '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', [crdManifest(group, kind, plural, versions)]);
  await waitForEndpoint(client, `/apis/${group}/${versions.at(-1)}/${plural}`);
}

export function brokenApiService(group: string) {
  return {
    apiVersion: 'apiregistration.k8s.io/v1', kind: 'APIService', metadata: { name: `v1.${group}` },
    spec: { group, version: 'v1', service: { namespace: 'default', name: 'missing' }, groupPriorityMinimum: 100, versionPriority: 10, insecureSkipTLSVerify: true },
  };
}

export async function waitForUnavailable(client: KubeClient, name: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const svc = await client.getJSON<{ status?: { conditions?: { type: string; status: string }[] } }>(`/apis/apiregistration.k8s.io/v1/apiservices/${name}`);
    if (svc.status?.conditions?.find((c) => c.type === 'Available')?.status === 'False') return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`APIService ${name} never became unavailable`);
}
