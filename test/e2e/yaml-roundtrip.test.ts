// Snapshot files are meant to be applied back: `kubectl apply -f` of a recorded file (read by kubectl's YAML 1.1
// parser) must give the object that was recorded, strings that look like YAML 1.1 booleans, nulls, numbers,
// timestamps or merge keys included, as values and as keys.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createCrd, createMany } from '../helpers/objects.ts';
import { ensureNamespace } from '../helpers/rbac.ts';
import { adminClient, git, kubectl, root, runCli, tempDir, testenv } from '../helpers/testenv.ts';

const client = adminClient();

// Plain scalars a YAML 1.1 reader takes for something other than a string (and a few that are strings anyway).
const SPECIAL = [
  'y', 'Y', 'yes', 'Yes', 'YES', 'n', 'N', 'no', 'No', 'NO', 'on', 'On', 'ON', 'off', 'Off', 'OFF', 'true', 'False',
  '~', 'null', 'Null', '.inf', '-.Inf', '.nan', '0x1F', '0o17', '0777', '0b1010', '1_000', '1e3', '6.8523015e+5', '12:30',
  '190:20:30', '2001-12-14', '2001-12-14t21:59:43.10-05:00', '=', '<<', '0', '-1', '1.', '.5', 'plain',
];
// ConfigMap keys allow only [-._a-zA-Z0-9]: the rest are keys of a custom resource's spec.
const CONFIGMAP_KEY = /^[-._a-zA-Z0-9]+$/;

/** What apply may legitimately differ in: server-set metadata, status and kubectl's own annotation. */
function comparable(obj: Record<string, any>) {
  const { status: _s, metadata, ...rest } = obj;
  const annotations = { ...metadata.annotations };
  delete annotations['kubectl.kubernetes.io/last-applied-configuration'];
  return { ...rest, metadata: { name: metadata.name, namespace: metadata.namespace, uid: metadata.uid, labels: metadata.labels, annotations } };
}

describe('snapshot files applied back with kubectl', () => {
  it('give back every recorded object, YAML 1.1 look-alike strings as values and keys included', async () => {
    kubectl(['apply', '-f', join(root, 'examples/demo.yaml')]);
    await ensureNamespace(client, 'yaml11');
    await createCrd(client, 'roundtrip.example.com', 'Case', 'cases');
    // Created as JSON, so no YAML parser had a say in what the cluster holds.
    await createMany(client, '/api/v1/namespaces/yaml11/configmaps', [{
      apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'yaml11', labels: { enabled: 'yes' }, annotations: { 'example.com/flag': 'on', 'example.com/at': '12:30' } },
      data: Object.fromEntries(SPECIAL.map((s, i) => [CONFIGMAP_KEY.test(s) ? s : `k${i}`, s])),
    }]);
    await createMany(client, '/apis/roundtrip.example.com/v1/namespaces/yaml11/cases', [{
      apiVersion: 'roundtrip.example.com/v1', kind: 'Case', metadata: { name: 'keys' },
      spec: { byKey: Object.fromEntries(SPECIAL.map((s) => [s, s])), list: SPECIAL, nested: [{ name: 'on', value: 'off' }] },
    }]);
    await createMany(client, '/apis/apps/v1/namespaces/yaml11/deployments', [{
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'flags' },
      spec: { selector: { matchLabels: { app: 'flags' } }, template: { metadata: { labels: { app: 'flags', canary: 'no' } }, spec: { containers: [{
        name: 'app', image: 'app:1.0', args: ['--verbose', 'yes', '--at', '12:30'], env: SPECIAL.slice(0, 20).map((s, i) => ({ name: `E${i}`, value: s })) }] } } },
    }]);

    const dir = tempDir('roundtrip');
    const repo = join(dir, 'repo');
    const config = join(dir, 'kubetrail.yaml');
    writeFileSync(config, [`repo: ${repo}`, 'clusters:', '  - id: roundtrip', `    kubeconfig: ${testenv().KUBECONFIG}`, '    namespaces: [shop, yaml11]',
      '    select: [core.v1.ConfigMap, core.v1.Service, core.v1.Namespace, apps.v1.Deployment, rbac.authorization.k8s.io.v1.ClusterRole, roundtrip.example.com.*]'].join('\n'));
    const res = await runCli(['sync', '--config', config]);
    expect(res.code, res.stderr).toBe(0);

    const files = [
      'core.v1.Namespace/_cluster/shop.yaml', 'core.v1.ConfigMap/shop/checkout-settings.yaml', 'apps.v1.Deployment/shop/checkout.yaml',
      'core.v1.Service/shop/checkout.yaml', 'rbac.authorization.k8s.io.v1.ClusterRole/_cluster/shop:reader.yaml',
      'core.v1.ConfigMap/yaml11/yaml11.yaml', 'roundtrip.example.com.v1.Case/yaml11/keys.yaml', 'apps.v1.Deployment/yaml11/flags.yaml',
    ];
    const text = readFileSync(join(repo, 'clusters/roundtrip/core.v1.ConfigMap/yaml11/yaml11.yaml'), 'utf8');
    for (const file of files) {
      const path = join(repo, 'clusters/roundtrip', file);
      const applied = JSON.parse(execFileSync('kubectl', ['--kubeconfig', testenv().KUBECONFIG, 'apply', '--dry-run=server', '-o', 'json', '-f', path],
        { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }));
      const recorded = JSON.parse(kubectl(['get', '-o', 'json', '-f', path]));
      expect(comparable(applied), file).toEqual(comparable(recorded));
    }
    expect(text).toContain('\n  "on": "on"\n'); // quoted, or kubectl reads `on: on` as true: true
    expect(git(repo, ['status', '--porcelain'])).toBe('');
  });
});
