// listAllPages against a stub client (unit test of one module). The 410 fallback against a real compacted etcd is
// proven in test/e2e/compaction.test.ts, the size limit against a real aggregated API in test/e2e/hostile.test.ts.
import { describe, expect, it } from 'vitest';
import { KubeError, type KubeClient } from '../../src/kube/client.ts';
import type { ResourceType } from '../../src/model/resource-type.ts';
import { listAllPages } from '../../src/kube/list.ts';

const type = { name: 'core.v1.ConfigMap', listPath: '/api/v1/configmaps', namespaced: true } as ResourceType;

function stubClient(pages: string[][], expireOnce: boolean): { client: KubeClient; requests: string[] } {
  const requests: string[] = [];
  let expired = false;
  const client = {
    async getJSON(path: string) {
      requests.push(path);
      const query = new URL(`http://x${path}`).searchParams;
      if (!query.has('limit')) return { items: pages.flat().map((name) => ({ metadata: { name } })), metadata: {} }; // unpaginated
      const cont = Number(query.get('continue') ?? 0);
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

  it('answers 410 Gone on a continue token with one unpaginated list, marked as restarted (client-go FullListIfExpired)', async () => {
    const { client, requests } = stubClient([['a'], ['b'], ['c']], true);
    const pages = [];
    for await (const p of listAllPages(client, type, { pageSize: 1 })) pages.push([p.restarted, p.items.map((i) => i.metadata!.name)]);
    expect(pages).toEqual([[false, ['a']], [false, ['b']], [true, ['a', 'b', 'c']]]);
    expect(requests).toEqual(['/api/v1/configmaps?limit=1', '/api/v1/configmaps?limit=1&continue=1',
      '/api/v1/configmaps?limit=1&continue=2', '/api/v1/configmaps']);
  });

  it('fails on 410 Gone for a first page (nothing to fall back to)', async () => {
    const client = { getJSON: async () => { throw new KubeError('410', { status: 410 }); } } as unknown as KubeClient;
    await expect((async () => { for await (const _ of listAllPages(client, type, { pageSize: 1 })) { /* drain */ } })()).rejects.toThrow('410');
  });

  it('asks for a page again with a tenth of the objects when it was over the size limit, and fails at one object', async () => {
    const limits: number[] = [];
    const client = {
      async getJSON(path: string) {
        const limit = Number(new URL(`http://x${path}`).searchParams.get('limit'));
        limits.push(limit);
        if (limit > 5) throw new KubeError('response over 16 MiB', { tooLarge: true });
        return { items: [{ metadata: { name: 'a' } }], metadata: {} };
      },
    } as unknown as KubeClient;
    for await (const _ of listAllPages(client, type, { pageSize: 500 })) { /* drain */ }
    expect(limits).toEqual([500, 50, 5]);
    const never = { getJSON: async () => { throw new KubeError('response over 16 MiB', { tooLarge: true }); } } as unknown as KubeClient;
    await expect((async () => { for await (const _ of listAllPages(never, type, { pageSize: 500 })) { /* drain */ } })()).rejects.toThrow('over 16 MiB');
  });

  it('refuses an answer that is not a list instead of reading it as an empty one', async () => {
    for (const answer of [{}, { items: 'garbage' }, { items: [1] }, { items: [null] }, null, 'text']) {
      const client = { getJSON: async () => answer } as unknown as KubeClient;
      await expect((async () => { for await (const _ of listAllPages(client, type, { pageSize: 5 })) { /* drain */ } })(), JSON.stringify(answer))
        .rejects.toThrow(/list of core.v1.ConfigMap: (the answer is not a list|items\[0\] is not an object)/);
    }
    const empty = { getJSON: async () => ({ items: null, metadata: {} }) } as unknown as KubeClient;
    for await (const p of listAllPages(empty, type, { pageSize: 5 })) expect(p.items).toEqual([]);
  });

  it('lists namespaced types per namespace when namespaces are given', async () => {
    const { client, requests } = stubClient([['a']], false);
    for await (const _ of listAllPages(client, type, { pageSize: 5, namespaces: ['x', 'y'] })) { /* drain */ }
    expect(requests).toEqual(['/api/v1/namespaces/x/configmaps?limit=5', '/api/v1/namespaces/y/configmaps?limit=5']);
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
