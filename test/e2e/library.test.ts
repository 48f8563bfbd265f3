// The library API as a program would use it: createKubetrail, events, syncs, queries.
import { describe, expect, it } from 'vitest';
import { createKubetrail, SyncInProgressError, validateConfig } from '../../src/index.ts';
import { createMany } from '../helpers/objects.ts';
import { ensureNamespace } from '../helpers/rbac.ts';
import { adminClient, kubectl, tempDir, testenv } from '../helpers/testenv.ts';

describe('library', () => {
  it('syncs, emits events, and answers queries about what it recorded', async () => {
    const client = adminClient();
    await ensureNamespace(client, 'lib');
    await createMany(client, '/api/v1/namespaces/lib/configmaps', [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a' }, data: { v: '1' } }]);
    const config = validateConfig({ repo: tempDir('lib'), clusters: [{ id: 'lib', kubeconfig: testenv().KUBECONFIG, namespaces: ['lib'], select: ['core.v1.ConfigMap'] }] });
    const kt = await createKubetrail(config);
    const seen: string[] = [];
    kt.on('*', (_payload, name) => seen.push(name));
    const changes: unknown[] = [];
    kt.on('change.detected', (p) => changes.push(p));

    const first = await kt.syncCluster('lib');
    expect(first).toMatchObject({ status: 'complete', added: 1 });
    expect(seen).toEqual(['cluster.sync.started', 'resource.discovered', 'change.detected', 'cluster.sync.completed']);
    expect(changes).toEqual([expect.objectContaining({ clusterId: 'lib', commit: first.commit, added: ['core.v1.ConfigMap/lib/a.yaml'] })]);

    kubectl(['-n', 'lib', 'delete', 'configmap', 'a']);
    seen.length = 0;
    const second = await kt.syncCluster('lib', { allowMassDelete: true });
    expect(second.deleted).toBe(1);
    expect(seen).toContain('resource.deleted');

    const [info] = await kt.getClusters();
    expect(info).toMatchObject({ id: 'lib', lastSync: { status: 'complete', commit: second.commit, deleted: 1 }, lastCommit: { commit: second.commit } });
    const versions = await kt.getVersions({ clusterId: 'lib', type: 'core.v1.ConfigMap', namespace: 'lib', name: 'a' });
    expect(versions.map((v) => v.kind)).toEqual(['deleted', 'added']);
    const before = await kt.getObject({ clusterId: 'lib', type: 'core.v1.ConfigMap', namespace: 'lib', name: 'a', at: first.commit });
    expect(before.object).toMatchObject({ data: { v: '1' } });

    // One cluster never syncs twice at once.
    const running = kt.syncCluster('lib');
    await expect(kt.syncCluster('lib')).rejects.toBeInstanceOf(SyncInProgressError);
    await running;

    const failing = await createKubetrail(validateConfig({ repo: tempDir('lib'), clusters: [{ id: 'down', connection: { server: 'https://127.0.0.1:1', tokenEnv: 'T' } }] }, { T: 'x' }));
    const failedEvents: unknown[] = [];
    failing.on('sync.failed', (p) => failedEvents.push(p));
    const result = await failing.syncCluster('down');
    expect(result.status).toBe('failed');
    expect(result.error).toBe('cluster down: cannot reach https://127.0.0.1:1 (ECONNREFUSED)');
    expect(failedEvents).toEqual([{ clusterId: 'down', error: result.error }]);
  });
});
