// Noise and redaction rules as a user meets them: each built-in rule against the real apiserver (a flip of what it
// ignores makes no commit; what it redacts is in no blob of history), a user's rule, a rule change re-rendering
// objects whose resourceVersion did not move, config errors, and `kubetrail churn`. CLI under Node and Deno.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGitServer, type GitServer } from '../../env/git-server.ts';
import { createCrd } from '../../helpers/objects.ts';
import { ensureNamespace } from '../../helpers/rbac.ts';
import { adminClient, apply, git, kubectl, runCli, runtime, tempDir, testenv } from '../../helpers/testenv.ts';

const ns = `noise-${runtime}`;
const id = `noise-${runtime}`;
const password = `pw-${runtime}-5d1c93ab`;
const helmValue = `helm-values-${runtime}-8e2f4a61`;
const tillerValue = `tiller-values-${runtime}-0b7c3d52`;
const node = `kt-noise-${runtime}`;
const client = adminClient();
const b64 = (s: string) => Buffer.from(s).toString('base64');

const manifests = `
apiVersion: v1
kind: ConfigMap
metadata:
  name: leader
  namespace: ${ns}
  annotations: {control-plane.alpha.kubernetes.io/leader: '{"holderIdentity":"a","renewTime":"2026-01-01T00:00:00Z"}'}
data: {role: scheduler}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: hpa-status
  namespace: ${ns}
  annotations: {autoscaling.alpha.kubernetes.io/current-metrics: '[{"cpu":1}]', reconcile.fluxcd.io/requestedAt: "1"}
data: {x: "1"}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: sh.helm.release.v1.shop.v1, namespace: ${ns}, labels: {owner: helm, name: shop, status: deployed, version: "1"}}
data: {release: ${b64(`{"config":{"password":"${helmValue}"}}`)}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: shop.v1, namespace: ${ns}, labels: {OWNER: TILLER, NAME: shop, STATUS: DEPLOYED}}
data: {release: ${b64(`{"config":{"password":"${tillerValue}"}}`)}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: stamped, namespace: ${ns}}
data: {stamp: "1", other: a}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: skipped, namespace: ${ns}, labels: {noise: skip}}
data: {x: "1"}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: hot, namespace: ${ns}}
data: {counter: "0"}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: ${ns}}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
        - name: web
          image: nginx:1.27
          env: [{name: DB_PASSWORD, value: ${password}}, {name: LOG_LEVEL, value: info}]
---
apiVersion: v1
kind: Node
metadata: {name: ${node}, annotations: {node.alpha.kubernetes.io/ttl: "0"}, labels: {kt-noise: "${runtime}"}}
`;

// Created, not applied: a client-side apply leaves nulls out, a typed Go client (as here) writes them.
const widget = `
apiVersion: noise.example.com/v1
kind: Widget
metadata: {name: w1, namespace: ${ns}}
spec:
  template:
    metadata: {creationTimestamp: null, labels: {app: w}}
    spec: {containers: [{name: w, image: busybox}]}
`;

const SELECT = ['core.v1.ConfigMap', 'apps.v1.Deployment', 'noise.example.com.v1.Widget', 'core.v1.Node'];

/** One cluster of this test, with `extra` lines (YAML, indented 4) under it. */
function writeConfig(dir: string, name: string, extra: string[] = []): string {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, [
    `repo: ${join(dir, name)}`,
    'clusters:', `  - id: ${id}`, `    kubeconfig: ${testenv().KUBECONFIG}`, `    namespaces: [${ns}]`, `    select: [${SELECT.join(', ')}]`,
    ...extra,
  ].join('\n'));
  return file;
}

const hmacEnv = { KUBETRAIL_HMAC_KEY: 'noise-test-key' };
const commits = (repo: string) => Number(git(repo, ['rev-list', '--count', 'HEAD']));
/** Every blob in the repository, reachable or not, as one text. */
const allBlobs = (repo: string) => git(repo, ['cat-file', '--batch-all-objects', '--batch']);

describe(`noise and redaction rules (CLI under ${runtime})`, () => {
  const dir = tempDir('noise');
  const repo = join(dir, 'main');
  const base = `clusters/${id}`;
  const userRules = [
    '    ignoreFields:', '      - {type: core.v1.ConfigMap, name: stamped, paths: [data.stamp]}',
    '    ignoreObjects:', '      - {type: core.v1.ConfigMap, labelSelector: "noise in (skip)"}',
  ];
  let config = writeConfig(dir, 'main', userRules);
  const sync = async () => {
    const res = await runCli(['sync', '--config', config, '--json'], { env: hmacEnv });
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    return JSON.parse(res.stdout) as { commit?: string; added: number; changed: number; blobsWritten: number };
  };
  const show = (path: string) => git(repo, ['show', `HEAD:${base}/${path}`]);

  beforeAll(async () => {
    await ensureNamespace(client, ns);
    await createCrd(client, 'noise.example.com', 'Widget', 'widgets');
    apply(manifests);
    kubectl(['create', '-f', '-'], widget);
    const first = await sync();
    expect(first.commit).toMatch(/^[0-9a-f]{40}$/);
  });

  it('drops last-applied from non-Secret objects (kubectl apply wrote it on every one)', () => {
    expect(kubectl(['-n', ns, 'get', 'deployment', 'web', '-o', 'yaml'])).toContain('last-applied-configuration');
    expect(show(`apps.v1.Deployment/${ns}/web.yaml`)).not.toContain('last-applied-configuration');
    expect(show(`core.v1.ConfigMap/${ns}/stamped.yaml`)).not.toMatch(/annotations/);
  });

  it('never lets a credential env value or a Helm release into any blob of history', () => {
    const deployment = show(`apps.v1.Deployment/${ns}/web.yaml`);
    expect(deployment).toMatch(/name: DB_PASSWORD\n\s+value: hmac-sha256:[0-9a-f]{64}\n/);
    expect(deployment).toContain('value: info');
    expect(show(`core.v1.ConfigMap/${ns}/sh.helm.release.v1.shop.v1.yaml`)).toMatch(/owner: helm[\s\S]*release: hmac-sha256:[0-9a-f]{64}/);
    expect(show(`core.v1.ConfigMap/${ns}/shop.v1.yaml`)).toMatch(/OWNER: TILLER[\s\S]*release: hmac-sha256:[0-9a-f]{64}/);
    const history = git(repo, ['log', '-p', '--all']) + allBlobs(repo);
    expect(history).toContain('DB_PASSWORD');
    for (const secret of [password, helmValue, tillerValue]) expect(history).not.toContain(secret);
    for (const release of [`{"config":{"password":"${helmValue}"}}`, `{"config":{"password":"${tillerValue}"}}`]) {
      expect(history).not.toContain(b64(release));
    }
  });

  it('a leader-election annotation flip makes no commit (the object is re-read, renders the same)', async () => {
    const head = commits(repo);
    kubectl(['-n', ns, 'annotate', '--overwrite', 'configmap', 'leader', 'control-plane.alpha.kubernetes.io/leader={"holderIdentity":"b","renewTime":"2026-01-01T00:00:05Z"}']);
    const res = await sync();
    expect(res).toMatchObject({ changed: 0, added: 0, blobsWritten: 0 });
    expect(res.commit).toBeUndefined();
    expect(commits(repo)).toBe(head);
    expect(show(`core.v1.ConfigMap/${ns}/leader.yaml`)).not.toContain('holderIdentity');
  });

  it('the template creationTimestamp is not recorded', () => {
    expect(show(`noise.example.com.v1.Widget/${ns}/w1.yaml`)).not.toContain('creationTimestamp: null');
    expect(kubectl(['-n', ns, 'get', 'widget', 'w1', '-o', 'yaml'])).toContain('creationTimestamp: null');
  });

  // One flip per built-in rule, each with its own sync: a rule switched off fails only its own case.
  it.each([
    ['autoscalerStatus', ['-n', ns, 'annotate', '--overwrite', 'configmap', 'hpa-status', 'autoscaling.alpha.kubernetes.io/current-metrics=[{"cpu":2}]']],
    ['reconcileRequests', ['-n', ns, 'annotate', '--overwrite', 'configmap', 'hpa-status', 'reconcile.fluxcd.io/requestedAt=2']],
    ['templateCreationTimestamp', ['-n', ns, 'patch', 'widget', 'w1', '--type=json', '-p', '[{"op":"remove","path":"/spec/template/metadata/creationTimestamp"}]']],
    ['nodeTTL', ['annotate', '--overwrite', 'node', node, 'node.alpha.kubernetes.io/ttl=15']],
  ])('%s: a flip of what it ignores makes no commit', async (_rule, args) => {
    const head = commits(repo);
    kubectl(args);
    const res = await sync();
    expect(res.commit).toBeUndefined();
    expect(commits(repo)).toBe(head);
  });

  it('a user rule from the config: an ignored field makes no commit, other fields do; an object ignored by label is not recorded', async () => {
    expect(git(repo, ['ls-tree', '-r', '--name-only', 'HEAD'])).not.toContain('skipped');
    expect(show(`core.v1.ConfigMap/${ns}/stamped.yaml`)).not.toMatch(/^\s+stamp:/m);
    const head = commits(repo);
    kubectl(['-n', ns, 'patch', 'configmap', 'stamped', '-p', '{"data":{"stamp":"2"}}']);
    expect((await sync()).commit).toBeUndefined();
    kubectl(['-n', ns, 'patch', 'configmap', 'stamped', '-p', '{"data":{"other":"b"}}']);
    expect((await sync()).commit).toBeDefined();
    expect(commits(repo)).toBe(head + 1);
    expect(git(repo, ['show', '--name-only', '--format=', 'HEAD']).trim()).toBe(`${base}/core.v1.ConfigMap/${ns}/stamped.yaml`);
  });

  it('a changed rule re-renders objects whose resourceVersion did not move (render cache fingerprint)', async () => {
    const head = commits(repo);
    config = writeConfig(dir, 'main', [
      '    ignoreFields:', '      - {type: core.v1.ConfigMap, name: stamped, paths: [data.other]}',
      '    ignoreObjects:', '      - {type: core.v1.ConfigMap, labelSelector: "noise in (skip)"}',
      '    defaultIgnoreFields: {leaderElection: false}',
    ]);
    const res = await sync();
    expect(res.commit).toBeDefined();
    expect(commits(repo)).toBe(head + 1);
    expect(git(repo, ['show', '--name-only', '--format=', 'HEAD']).trim().split('\n').sort())
      .toEqual([`${base}/core.v1.ConfigMap/${ns}/leader.yaml`, `${base}/core.v1.ConfigMap/${ns}/stamped.yaml`]);
    expect(show(`core.v1.ConfigMap/${ns}/stamped.yaml`)).toMatch(/stamp: "2"/);
    expect(show(`core.v1.ConfigMap/${ns}/stamped.yaml`)).not.toContain('other');
    expect(show(`core.v1.ConfigMap/${ns}/leader.yaml`)).toContain('holderIdentity');
    // With leader election no longer ignored, the flip that made no commit above makes one now.
    kubectl(['-n', ns, 'annotate', '--overwrite', 'configmap', 'leader', 'control-plane.alpha.kubernetes.io/leader={"holderIdentity":"c"}']);
    expect((await sync()).commit).toBeDefined();
    expect(commits(repo)).toBe(head + 2);
  });

  it('with every default switched off, the same objects are recorded as the server has them', async () => {
    const off = writeConfig(dir, 'off', [
      '    keepLastApplied: true',
      '    defaultIgnoreFields: {leaderElection: false, templateCreationTimestamp: false, autoscalerStatus: false, nodeTTL: false, reconcileRequests: false}',
      '    defaultRedactFields: {envSecrets: false, helmValues: false, helmReleaseConfigMaps: false}',
    ]);
    const res = await runCli(['sync', '--config', off], { env: hmacEnv });
    expect(res.code).toBe(0);
    const offRepo = join(dir, 'off');
    const at = (path: string) => git(offRepo, ['show', `HEAD:${base}/${path}`]);
    expect(at(`apps.v1.Deployment/${ns}/web.yaml`)).toContain(password);
    expect(at(`apps.v1.Deployment/${ns}/web.yaml`)).toContain('last-applied-configuration');
    expect(at(`core.v1.ConfigMap/${ns}/sh.helm.release.v1.shop.v1.yaml`)).toContain(b64(`{"config":{"password":"${helmValue}"}}`));
    expect(at(`core.v1.ConfigMap/${ns}/hpa-status.yaml`)).toContain('autoscaling.alpha.kubernetes.io/current-metrics');
    expect(at(`core.v1.ConfigMap/${ns}/hpa-status.yaml`)).toContain('reconcile.fluxcd.io/requestedAt');
    expect(at(`core.v1.Node/_cluster/${node}.yaml`)).toContain('node.alpha.kubernetes.io/ttl');
    kubectl(['-n', ns, 'patch', 'widget', 'w1', '--type=merge', '-p', '{"spec":{"template":{"metadata":{"creationTimestamp":"2026-01-01T00:00:00Z"}}}}']);
    expect((await runCli(['sync', '--config', off], { env: hmacEnv })).code).toBe(0);
    expect(git(offRepo, ['show', '--name-only', '--format=', 'HEAD']).trim()).toBe(`${base}/noise.example.com.v1.Widget/${ns}/w1.yaml`);
  });

  it('the cluster-autoscaler status ConfigMap is left out unless switched on', async () => {
    apply(`apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cluster-autoscaler-status, namespace: kube-system}\ndata: {status: "Cluster-wide: Healthy"}\n`);
    const file = `clusters/${id}/core.v1.ConfigMap/kube-system/cluster-autoscaler-status.yaml`;
    const write = (name: string, extra: string[]) => {
      const path = join(dir, `${name}.yaml`);
      writeFileSync(path, [`repo: ${join(dir, name)}`, 'clusters:', `  - id: ${id}`, `    kubeconfig: ${testenv().KUBECONFIG}`,
        '    namespaces: [kube-system]', '    select: [core.v1.ConfigMap]', ...extra].join('\n'));
      return path;
    };
    expect((await runCli(['sync', '--config', write('ca-on', [])])).code).toBe(0);
    expect(git(join(dir, 'ca-on'), ['ls-tree', '-r', '--name-only', 'HEAD'])).not.toContain('cluster-autoscaler-status');
    expect((await runCli(['sync', '--config', write('ca-off', ['    defaultIgnoreObjects: {clusterAutoscalerStatus: false}'])])).code).toBe(0);
    expect(git(join(dir, 'ca-off'), ['ls-tree', '-r', '--name-only', 'HEAD'])).toContain(file);
  });

  it('a bad rule is a config error naming the field, and nothing runs', async () => {
    const cases: [string[], RegExp][] = [
      [['    ignoreFields:', '      - {type: core.v1.ConfigMap, paths: ["metadata.annotations[leader"]}'], /clusters\[0\]\.ignoreFields\[0\]\.paths\[0\]: invalid field path/],
      [['    ignoreObjects:', '      - {type: core.v1.ConfigMap, labelSelector: "owner in helm"}'], /clusters\[0\]\.ignoreObjects\[0\]\.labelSelector: invalid label selector/],
      [['    redactFields:', '      - {type: "core v1", paths: [data.x]}'], /clusters\[0\]\.redactFields\[0\]\.type: invalid type pattern/],
    ];
    for (const [extra, message] of cases) {
      const res = await runCli(['sync', '--config', writeConfig(dir, 'bad', extra)], { env: hmacEnv });
      expect(res.code).toBe(1);
      expect(res.stderr).toMatch(/^kubetrail: config error: /);
      expect(res.stderr).toMatch(message);
    }
  });

  it('churn lists the object and field that changed most often', async () => {
    for (let i = 1; i <= 3; i++) {
      kubectl(['-n', ns, 'patch', 'configmap', 'hot', '-p', `{"data":{"counter":"${i}"}}`]);
      expect((await sync()).commit).toBeDefined();
    }
    const res = await runCli(['churn', '--config', config, '--cluster', id, '--since', '1h', '--json']);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    const report = JSON.parse(res.stdout);
    expect(report.objects[0]).toMatchObject({ type: 'core.v1.ConfigMap', namespace: ns, name: 'hot', changes: 4 }); // added + 3 changes
    expect(report.objects[0].fields).toEqual([{ path: 'data.counter', changes: 3 }]);
    expect(report.fields[0]).toEqual({ type: 'core.v1.ConfigMap', path: 'data.counter', changes: 3, objects: 1 });
    const text = await runCli(['churn', '--repo', repo, '--cluster', id]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/4 {2}clusters\/.*\/core\.v1\.ConfigMap\/.*\/hot\.yaml\n\s+3 {2}data\.counter/);
    const bad = await runCli(['churn', '--repo', repo, '--since', 'yesterday']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('--since must be a duration');
  });
});

// A CronJob run starts from an empty directory and takes the render cache from the remote's render state: a state
// made under other rules must not be used, or the objects whose resourceVersion did not move keep their old blobs.
describe(`noise rules and the remote render state (CLI under ${runtime})`, () => {
  const token = `noise-token-${runtime}`;
  const stateId = `noise-state-${runtime}`;
  const work = tempDir('noise-state');
  let server: GitServer;
  let bare: string;

  async function cronRun(ignoredKey: string) {
    const dir = join(work, `run-${Math.random().toString(36).slice(2)}`);
    const file = `${dir}.yaml`;
    writeFileSync(file, [`repo: ${dir}`, `remote: {url: ${server.repoUrl('noise.git')}, branch: main, allowInsecureHttp: true}`,
      'clusters:', `  - id: ${stateId}`, `    kubeconfig: ${testenv().KUBECONFIG}`, `    namespaces: [${ns}]`, '    select: [core.v1.ConfigMap]',
      '    ignoreFields:', `      - {type: core.v1.ConfigMap, name: remote-rule, paths: [data.${ignoredKey}]}`].join('\n'));
    const run = await runCli(['sync', '--config', file, '--push', '--json'], { env: { KUBETRAIL_GIT_TOKEN: token, ...hmacEnv } });
    expect(run.stderr).toBe('');
    expect(run.code, run.stdout).toBe(0);
    return JSON.parse(run.stdout).results[0] as { commit?: string };
  }
  const recorded = () => git(bare, ['show', `main:clusters/${stateId}/core.v1.ConfigMap/${ns}/remote-rule.yaml`]);

  beforeAll(async () => {
    server = await startGitServer({ root: tempDir('noise-remotes'), token });
    bare = server.createBareRepo('noise.git');
    await ensureNamespace(client, ns);
    apply(`apiVersion: v1\nkind: ConfigMap\nmetadata: {name: remote-rule, namespace: ${ns}}\ndata: {a: "1", b: "1"}\n`);
  });
  afterAll(async () => {
    await server?.close();
  });

  it('a run from an empty directory with a changed rule re-renders, though the state on the remote is otherwise valid', async () => {
    expect((await cronRun('a')).commit).toBeDefined();
    expect(git(bare, ['rev-parse', '--verify', `refs/kubetrail/state/${stateId}`]).trim()).toMatch(/^[0-9a-f]{40}$/);
    expect((await cronRun('a')).commit).toBeUndefined(); // same rules: the state is used, nothing changed
    expect(recorded()).toMatch(/b: "1"/);
    expect(recorded()).not.toMatch(/a: "1"/);
    expect((await cronRun('b')).commit).toBeDefined();
    expect(recorded()).toMatch(/a: "1"/);
    expect(recorded()).not.toMatch(/b: "1"/);
  });
});
