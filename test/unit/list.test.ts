// listAllPages against a stub client (unit test of one module): the real 1.37 apiserver serves expired continue
// tokens from its watch cache, so a 410 cannot be provoked in e2e.
import { describe, expect, it } from 'vitest';
import { KubeError, type KubeClient } from '../../src/kube/client.ts';
import type { ResourceType } from '../../src/kube/discovery.ts';
import { listAllPages } from '../../src/kube/list.ts';

const type = { name: 'core.v1.ConfigMap', listPath: '/api/v1/configmaps', namespaced: true } as ResourceType;

function stubClient(pages: string[][], expireOnce: boolean): { client: KubeClient; requests: string[] } {
  const requests: string[] = [];
  let expired = false;
  const client = {
    async getJSON(path: string) {
      requests.push(path);
      const cont = Number(new URL(`http://x${path}`).searchParams.get('continue') ?? 0);
      if (expireOnce && cont === 2 && !expired) {
        expired = true;
        throw new KubeError('410 from GET: continue parameter is too old', { status: 410 });
      }
      return { items: pages[cont].map((name) => ({ metadata: { name } })), metadata: { continue: cont + 1 < pages.length ? String(cont + 1) : '' } };
    },
  } as unknown as KubeClient;
  return { client, requests };
}

describe('listAllPages', () => {
  it('follows continue tokens to the last page', async () => {
    const { client } = stubClient([['a', 'b'], ['c', 'd'], ['e']], false);
    const seen = [];
    for await (const p of listAllPages(client, type, { pageSize: 2 })) seen.push(p.items.map((i) => i.metadata!.name));
    expect(seen).toEqual([['a', 'b'], ['c', 'd'], ['e']]);
  });

  it('restarts the type on 410 Gone and marks the first page after the restart', async () => {
    const { client, requests } = stubClient([['a'], ['b'], ['c']], true);
    const pages = [];
    for await (const p of listAllPages(client, type, { pageSize: 1 })) pages.push([p.restarted, p.items.map((i) => i.metadata!.name)]);
    expect(pages.at(-3)).toEqual([true, ['a']]);
    expect(pages.slice(-2)).toEqual([[false, ['b']], [false, ['c']]]);
    expect(requests.filter((r) => !r.includes('continue'))).toHaveLength(2);
  });

  it('lists namespaced types per namespace when namespaces are given', async () => {
    const { client, requests } = stubClient([['a']], false);
    for await (const _ of listAllPages(client, type, { pageSize: 5, namespaces: ['x', 'y'] })) { /* drain */ }
    expect(requests).toEqual(['/api/v1/namespaces/x/configmaps?limit=5', '/api/v1/namespaces/y/configmaps?limit=5']);
  });

  it('gives up after repeated expiry with the error', async () => {
    const client = { getJSON: async () => { throw new KubeError('410', { status: 410 }); } } as unknown as KubeClient;
    await expect((async () => { for await (const _ of listAllPages(client, type, { pageSize: 1, maxRestarts: 2 })) { /* drain */ } })()).rejects.toThrow('410');
  });

  it('asks for metadata only when told, and says whether the server answered so', async () => {
    const accepts: (string | undefined)[] = [];
    const answer = (honour: boolean) => ({
      async getJSON(_path: string, o: { accept?: string } = {}) {
        accepts.push(o.accept);
        const partial = honour && o.accept?.startsWith('application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1');
        return { kind: partial ? 'PartialObjectMetadataList' : 'ConfigMapList', items: [{ metadata: { name: 'a' } }], metadata: {} };
      },
    }) as unknown as KubeClient;
    const flags = async (client: KubeClient, metadataOnly: boolean) => {
      const out = [];
      for await (const p of listAllPages(client, type, { pageSize: 5, metadataOnly })) out.push(p.metadataOnly);
      return out;
    };
    expect(await flags(answer(true), true)).toEqual([true]);
    expect(await flags(answer(false), true)).toEqual([false]); // e.g. an aggregated API: the full list came back
    expect(await flags(answer(true), false)).toEqual([false]);
    expect(accepts[0]).toMatch(/,application\/json$/); // a full list stays acceptable
    expect(accepts[2]).toBeUndefined();
  });
});
