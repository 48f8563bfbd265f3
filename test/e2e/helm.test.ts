// The Helm chart (config/helm/kubetrail): it lints clean, renders manifests the real apiserver accepts for every
// value set a user is likely to choose, grants exactly read access, and its CronJob's command syncs and pushes
// when run as the chart's own ServiceAccount with a real token.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../../src/config/validate.ts';
import { startGitServer, type GitServer } from '../env/git-server.ts';
import { ensureNamespace, kubeconfigFor } from '../helpers/rbac.ts';
import { adminClient, apply, git, kubectl, root, runCli, tempDir } from '../helpers/testenv.ts';

const chart = join(root, 'config/helm/kubetrail');
const helmHome = tempDir('helm-home');
const NS = 'kt-helm';

function helm(args: string[]): string {
  // Helm's own cache/config/data under a temporary home: a test leaves nothing in ~/.config or ~/.cache.
  const env = { ...process.env, HELM_CACHE_HOME: join(helmHome, 'cache'), HELM_CONFIG_HOME: join(helmHome, 'config'), HELM_DATA_HOME: join(helmHome, 'data') };
  return execFileSync('bash', [join(root, 'test/env/helm.sh'), ...args], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

type Values = Record<string, unknown>;
const required = { clusterId: 'helm-test', remote: { url: 'https://git.example.com/acme/cluster-history.git' } };

/** `helm template` of the chart with `values` (one -f file) in namespace NS; the documents as objects. */
function render(release: string, values: Values): any[] {
  const file = join(tempDir('helm-values'), 'values.yaml');
  writeFileSync(file, stringify(values));
  const out = helm(['template', release, chart, '--namespace', NS, '-f', file]);
  return parseAllDocuments(out).map((d) => d.toJS()).filter((d) => d);
}
const renderText = (docs: any[]) => docs.map((d) => stringify(d)).join('---\n');
const find = (docs: any[], kind: string) => docs.filter((d) => d.kind === kind);
const configOf = (docs: any[]) => parse(find(docs, 'ConfigMap')[0].data['kubetrail.yaml']) as Record<string, any>;
const podOf = (docs: any[]) => find(docs, 'CronJob')[0].spec.jobTemplate.spec.template.spec;

/** `kubectl auth can-i` as the ServiceAccount: true for "yes"; "no" is exit 1. */
function can(sa: string, verb: string, resource: string): boolean {
  try {
    return kubectl(['auth', 'can-i', verb, resource, '--all-namespaces', `--as=system:serviceaccount:${NS}:${sa}`]).trim() === 'yes';
  } catch (e) {
    const out = (e as { stdout?: string }).stdout?.trim();
    if (out === 'no') return false;
    throw e;
  }
}

const valueSets: Record<string, Values> = {
  defaults: required,
  'pull-request mode': { ...required, remote: { ...required.remote, pullRequest: { enabled: true, base: 'live', forge: 'gitea', mode: 'guarded' } } },
  'secrets included': { ...required, includeSecrets: true },
  'custom resources, schedule and jitter': {
    ...required, schedule: '7 * * * *', startJitterSeconds: 45,
    resources: { requests: { cpu: '50m', memory: '300Mi' }, limits: { cpu: '1', memory: '400Mi' } },
  },
};

beforeAll(async () => {
  // The first use builds helm from Go modules (scripts/test.sh builds it before any test; here for a lone run).
  execFileSync('bash', [join(root, 'test/env/build-helm.sh')], { stdio: ['ignore', 'ignore', 'inherit'], timeout: 30 * 60_000 });
  await ensureNamespace(adminClient(), NS);
}, 31 * 60_000);

describe('helm chart', () => {
  it('helm lint is clean with every value set, and names what is missing without them', () => {
    for (const [name, values] of Object.entries(valueSets)) {
      const file = join(tempDir('helm-lint'), 'values.yaml');
      writeFileSync(file, stringify(values));
      const out = helm(['lint', '--strict', chart, '-f', file]);
      expect(out, name).toMatch(/1 chart\(s\) linted, 0 chart\(s\) failed/);
      // The one remark left: there is no icon to point at.
      expect(out.split('\n').filter((l) => /^\[[A-Z]+\]/.test(l)), name).toEqual(['[INFO] Chart.yaml: icon is recommended']);
    }
    expect(() => helm(['template', 'x', chart])).toThrow(/clusterId is required/);
    expect(() => helm(['template', 'x', chart, '--set', 'clusterId=a'])).toThrow(/remote.url is required/);
    expect(() => helm(['template', 'x', chart, '--set', 'clusterId=Prod_1', '--set', 'remote.url=https://h/r.git'])).toThrow(/must be a DNS label/);
  });

  for (const [name, values] of Object.entries(valueSets)) {
    it(`${name}: kubectl apply --dry-run=server accepts what helm template renders, and kubetrail accepts its config`, () => {
      const docs = render('dry', values);
      expect(docs.map((d) => d.kind).sort()).toEqual(['ClusterRole', 'ClusterRoleBinding', 'ConfigMap', 'CronJob', 'ServiceAccount']);
      const out = kubectl(['apply', '--dry-run=server', '-f', '-'], renderText(docs));
      for (const what of ['serviceaccount/dry-kubetrail', 'clusterrole.rbac.authorization.k8s.io/dry-kubetrail-reader',
        'clusterrolebinding.rbac.authorization.k8s.io/dry-kubetrail-reader', 'configmap/dry-kubetrail-config', 'cronjob.batch/dry-kubetrail']) {
        expect(out).toMatch(new RegExp(`${what.replace(/[./]/g, '\\$&')} (created|configured|unchanged) \\(server dry run\\)`));
      }
      for (const d of docs) if (d.kind !== 'ClusterRole' && d.kind !== 'ClusterRoleBinding') expect(d.metadata.namespace).toBe(NS);

      const raw = configOf(docs);
      const config = validateConfig(raw, { KUBETRAIL_GIT_TOKEN: 't', KUBETRAIL_HMAC_KEY: 'k' });
      expect(config.clusters.map((c) => [c.id, c.inCluster !== undefined, c.discovery.includeSecrets]))
        .toEqual([['helm-test', true, values.includeSecrets === true]]);
      expect(config.remote?.pullRequest && { base: config.remote.pullRequest.base, forge: config.remote.pullRequest.forge, mode: config.remote.pullRequest.mode })
        .toEqual((values.remote as any).pullRequest && { base: 'live', forge: 'gitea', mode: 'guarded' });
      expect(config.startJitterSeconds).toBe(values.startJitterSeconds ?? 0);

      const cron = find(docs, 'CronJob')[0];
      expect(cron.spec.schedule).toBe(values.schedule ?? '*/15 * * * *');
      const container = podOf(docs).containers[0];
      expect(container.resources).toEqual(values.resources ?? { requests: { cpu: '100m', memory: '192Mi' }, limits: { memory: '256Mi' } });
      expect(container.env.find((e: any) => e.name === 'KUBETRAIL_HMAC_KEY').valueFrom.secretKeyRef.optional).toBe(values.includeSecrets !== true);
    });
  }

  it('the chart\'s CronJob is config/cronjob.yaml\'s: hardened, bounded in time, memory and disk', () => {
    const shipped = parse(readFileSync(join(root, 'config/cronjob.yaml'), 'utf8'));
    const charted = find(render('same', required), 'CronJob')[0];
    for (const cron of [shipped, charted]) {
      expect(cron.spec).toMatchObject({ concurrencyPolicy: 'Forbid', startingDeadlineSeconds: 300, jobTemplate: { spec: { activeDeadlineSeconds: 1800 } } });
      const pod = cron.spec.jobTemplate.spec.template.spec;
      expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
      const c = pod.containers[0];
      expect(c.securityContext).toEqual({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
      expect(c.args).toEqual(['sync', '--push']);
      expect(c.resources.limits.memory).toMatch(/^\d+Mi$/);
      // Every writable path is a volume with a size limit (the root filesystem is read-only).
      const volumes = Object.fromEntries(pod.volumes.map((v: any) => [v.name, v]));
      for (const m of c.volumeMounts.filter((m: any) => !m.readOnly)) expect(volumes[m.name].emptyDir.sizeLimit, m.name).toMatch(/^\d+[MG]i$/);
    }
    const pick = (cron: any) => {
      const pod = cron.spec.jobTemplate.spec.template.spec;
      return { resources: pod.containers[0].resources, volumes: pod.volumes.filter((v: any) => v.emptyDir), pod: pod.securityContext };
    };
    expect(pick(charted)).toEqual(pick(shipped));
  });
});

describe('helm chart RBAC on the real apiserver', () => {
  beforeAll(() => {
    for (const [release, values] of [['plain', required], ['secrets', { ...required, includeSecrets: true }]] as const) {
      const docs = render(release, values).filter((d) => d.kind !== 'CronJob' && d.kind !== 'ConfigMap');
      apply(renderText(docs));
    }
  });

  it('reads everything but Secrets by default, Secrets too when included, and writes nothing', () => {
    for (const sa of ['plain-kubetrail', 'secrets-kubetrail']) {
      for (const resource of ['configmaps', 'deployments.apps', 'clusterroles.rbac.authorization.k8s.io', 'customresourcedefinitions.apiextensions.k8s.io']) {
        expect([sa, resource, can(sa, 'list', resource), can(sa, 'get', resource)]).toEqual([sa, resource, true, true]);
      }
      for (const verb of ['create', 'update', 'patch', 'delete', 'watch']) expect([sa, verb, can(sa, verb, 'configmaps')]).toEqual([sa, verb, false]);
      expect([sa, can(sa, 'create', 'serviceaccounts/token')]).toEqual([sa, false]);
    }
    expect([can('plain-kubetrail', 'list', 'secrets'), can('plain-kubetrail', 'get', 'secrets')]).toEqual([false, false]);
    expect([can('secrets-kubetrail', 'list', 'secrets'), can('secrets-kubetrail', 'get', 'secrets')]).toEqual([true, true]);
    expect(can('secrets-kubetrail', 'delete', 'secrets')).toBe(false);
  });
});

describe('the chart\'s CronJob command, run as the chart\'s ServiceAccount', () => {
  const dir = tempDir('helm-run');
  let server: GitServer;
  beforeAll(async () => {
    server = await startGitServer({ root: join(dir, 'remote'), token: 'git-token' });
    // A Secret to leave out (or record as an HMAC): the run must show which.
    apply(stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'helm-canary', namespace: NS }, stringData: { password: 'hunter2' } }));
  });
  afterAll(() => server?.close());

  /** Installs the rendered ServiceAccount and RBAC for real, then runs the CronJob's container as a Job would. */
  async function runAsCronJob(release: string, values: Values, env: Record<string, string>) {
    server.createBareRepo(`${release}.git`);
    const docs = render(release, { ...values, remote: { ...(values.remote as object), url: server.repoUrl(`${release}.git`) },
      cluster: { ignore: ['*.example.com.*', 'samplecontroller.k8s.io.*'] } }); // other test files' CRD groups: not in the ClusterRole
    apply(renderText(docs.filter((d) => d.kind !== 'CronJob' && d.kind !== 'ConfigMap')));
    const sa = find(docs, 'ServiceAccount')[0].metadata.name;
    const token = kubectl(['-n', NS, 'create', 'token', sa, '--duration=1h']).trim();
    const work = join(dir, release);
    mkdirSync(work);
    writeFileSync(join(work, 'kubeconfig'), kubeconfigFor([{ name: sa, token }], sa));
    // The rendered config with this machine's paths: the pod's /data volume, the kubeconfig for inCluster, and
    // an http:// remote on loopback.
    const config = configOf(docs);
    const container = podOf(docs).containers[0];
    const mounts = Object.fromEntries(container.volumeMounts.map((m: any) => [m.name, m.mountPath]));
    expect(container.env.find((e: any) => e.name === 'KUBETRAIL_CONFIG').value).toBe(`${mounts.config}/kubetrail.yaml`);
    expect(config.repo.startsWith(`${mounts.data}/`)).toBe(true); // the sized emptyDir, not the read-only root
    config.repo = join(work, 'data/repo');
    config.remote.allowInsecureHttp = true;
    for (const c of config.clusters) { delete c.inCluster; c.kubeconfig = join(work, 'kubeconfig'); }
    writeFileSync(join(work, 'kubetrail.yaml'), stringify(config));
    const envNames = container.env.map((e: any) => e.name);
    expect(envNames).toEqual(['KUBETRAIL_CONFIG', 'KUBETRAIL_GIT_TOKEN', 'KUBETRAIL_HMAC_KEY']);
    const res = await runCli(container.args, { env: { KUBETRAIL_CONFIG: join(work, 'kubetrail.yaml'), ...env }, cwd: work });
    const remote = join(dir, 'remote', `${release}.git`);
    const files = res.code === 0 ? git(remote, ['ls-tree', '-r', '--name-only', 'main']).split('\n').filter(Boolean) : [];
    if (res.code === 0) git(config.repo, ['fsck', '--full', '--strict']); // the run's own (bare) repository
    return { res, remote, files };
  }

  it('with the defaults it syncs, pushes a repository git fsck passes, and records no Secret', async () => {
    // The HMAC key is optional and may well be in the Secret: it must not bring Secrets in on its own.
    const { res, remote, files } = await runAsCronJob('run', required, { KUBETRAIL_GIT_TOKEN: 'git-token', KUBETRAIL_HMAC_KEY: 'hmac-key' });
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/push: [0-9a-f]{10} after 1 attempt/);
    git(remote, ['fsck', '--full', '--strict']);
    expect(files).toContain(`clusters/helm-test/core.v1.ServiceAccount/${NS}/run-kubetrail.yaml`);
    expect(files).toContain('clusters/helm-test/rbac.authorization.k8s.io.v1.ClusterRole/_cluster/run-kubetrail-reader.yaml');
    expect(files.filter((f) => f.includes('Secret'))).toEqual([]);
  });

  it('with includeSecrets it records the Secret, its value only as an HMAC', async () => {
    const { res, remote, files } = await runAsCronJob('runsecrets', { ...required, includeSecrets: true },
      { KUBETRAIL_GIT_TOKEN: 'git-token', KUBETRAIL_HMAC_KEY: 'hmac-key' });
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    git(remote, ['fsck', '--full', '--strict']);
    const path = `clusters/helm-test/core.v1.Secret/${NS}/helm-canary.yaml`;
    expect(files).toContain(path);
    const secret = git(remote, ['show', `main:${path}`]);
    expect(secret).toMatch(/password: hmac-sha256:[0-9a-f]{64}/);
    expect(secret).not.toContain(Buffer.from('hunter2').toString('base64'));
  });
});
