// What we ship: manifests the real apiserver accepts, RBAC that reads everything but Secrets, a Dockerfile whose
// exact command works.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { validate } from 'dockerfile-utils';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../../src/config/validate.ts';
import { startGitServer, type GitServer } from '../env/git-server.ts';
import { ensureNamespace } from '../helpers/rbac.ts';
import { adminClient, git, kubectl, root, runCli, tempDir, testenv } from '../helpers/testenv.ts';

const exampleConfig = () => {
  const cm = parse(readFileSync(join(root, 'config/kubetrail.example.yaml'), 'utf8'));
  return parse(cm.data['kubetrail.yaml']) as Record<string, any>;
};

describe('shipped manifests', () => {
  beforeAll(async () => {
    await ensureNamespace(adminClient(), 'kubetrail'); // a dry run does not create the namespace for the rest
  });

  it('kubectl apply --dry-run=server -f config/ passes against the real apiserver', () => {
    const out = kubectl(['apply', '--dry-run=server', '-f', join(root, 'config')]);
    for (const what of ['serviceaccount/kubetrail', 'clusterrole.rbac.authorization.k8s.io/kubetrail-reader', 'cronjob.batch/kubetrail',
      'deployment.apps/kubetrail', 'service/kubetrail', 'configmap/kubetrail-config']) {
      expect(out).toMatch(new RegExp(`${what.replace(/[./]/g, '\\$&')} (created|configured|unchanged) \\(server dry run\\)`));
    }
  });

  it('the example config is valid', () => {
    const config = validateConfig(exampleConfig(), { KUBETRAIL_GIT_TOKEN: 'x' });
    expect(config.clusters.map((c) => c.id)).toEqual(['in-cluster']);
    expect(config.remote?.url).toMatch(/^https:/);
  });

  it('the CronJob and Deployment are hardened and probe the API', () => {
    const docs = ['cronjob.yaml', 'deployment.yaml'].flatMap((f) => parseAllDocuments(readFileSync(join(root, 'config', f), 'utf8')).map((d) => d.toJS()));
    const pods = [docs[0].spec.jobTemplate.spec.template.spec, docs[1].spec.template.spec];
    for (const pod of pods) {
      expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
      expect(pod.containers[0].securityContext).toEqual({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
      expect(pod.serviceAccountName).toBe('kubetrail');
    }
    expect(pods[0].containers[0].env.find((e: any) => e.name === 'KUBETRAIL_GIT_TOKEN').valueFrom.secretKeyRef).toMatchObject({ name: 'kubetrail-git' });
    expect(pods[1].containers[0].livenessProbe.httpGet.path).toBe('/healthz');
    expect(pods[1].containers[0].readinessProbe.httpGet.path).toBe('/readyz');
  });
});

describe('in-cluster sync as the shipped ServiceAccount', () => {
  const dir = tempDir('incluster');
  const env = () => {
    const url = new URL(testenv().APISERVER_URL);
    return { KUBERNETES_SERVICE_HOST: url.hostname, KUBERNETES_SERVICE_PORT: url.port, KUBETRAIL_HMAC_KEY: 'k' };
  };

  beforeAll(async () => {
    kubectl(['apply', '-f', join(root, 'config/namespace.yaml'), '-f', join(root, 'config/rbac.yaml')]);
    const tr = JSON.parse(kubectl(['-n', 'kubetrail', 'create', 'token', 'kubetrail', '--duration=1h', '-o', 'json']));
    writeFileSync(join(dir, 'token'), tr.status.token);
    writeFileSync(join(dir, 'ca.crt'), readFileSync(testenv().CA_FILE));
  });

  const configWith = (extra: Record<string, unknown>) => {
    const config = exampleConfig();
    delete config.remote;
    config.repo = join(dir, `repo-${Object.keys(extra).length}`);
    // CRD groups made by other test files are not in rbac.yaml's list (RBAC cannot grant "all groups but core"):
    // theirs are *.example.com, and the export test's real-world fixture brings sample-controller's CRD.
    config.clusters = [{ ...config.clusters[0], inCluster: { tokenFile: join(dir, 'token'), caFile: join(dir, 'ca.crt') },
      ignore: ['*.example.com.*', 'samplecontroller.k8s.io.*'], ...extra }];
    const file = join(dir, `k-${Object.keys(extra).length}.yaml`);
    writeFileSync(file, stringify(config));
    return file;
  };

  it('reads every type it is given', async () => {
    const res = await runCli(['sync', '--config', configWith({}), '--json'], { env: env() });
    expect(res.stderr).toBe('');
    const result = JSON.parse(res.stdout);
    expect(result.failedTypes).toEqual([]);
    expect(res.code).toBe(0);
    expect(Object.keys(result.types)).toEqual(expect.arrayContaining(['core.v1.ConfigMap', 'core.v1.Namespace', 'core.v1.ServiceAccount', 'rbac.authorization.k8s.io.v1.ClusterRole']));
  });

  it('everything except Secrets, which it is not allowed', async () => {
    const res = await runCli(['sync', '--config', configWith({ includeSecrets: true }), '--json'], { env: env() });
    expect(res.code).toBe(3);
    expect(JSON.parse(res.stdout).failedTypes).toEqual([{ type: 'core.v1.Secret', reason: expect.stringMatching(/^403 .*secrets is forbidden/) }]);
  });
});

describe('Dockerfile', () => {
  const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
  let server: GitServer;
  beforeAll(async () => {
    server = await startGitServer({ root: tempDir('docker-remote'), token: 't' });
    server.createBareRepo('d.git');
  });
  afterAll(() => server?.close());

  it('passes the linter', () => {
    expect(validate(dockerfile).map((d) => `${d.range.start.line + 1}: ${d.message}`)).toEqual([]);
    expect(dockerfile).toMatch(/^USER 10001:10001$/m);
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
  });

  it('its exact ENTRYPOINT + CMD syncs and pushes, writing only to the repository volume', async () => {
    const entrypoint = JSON.parse(dockerfile.match(/^ENTRYPOINT (\[.*\])$/m)![1]) as string[];
    const cmd = JSON.parse(dockerfile.match(/^CMD (\[.*\])$/m)![1]) as string[];
    expect(entrypoint[0]).toBe('node');
    // The image, ./kubetrail and the npm bin's shebang run Node with the same memory settings.
    const flags = ['--max-semi-space-size=8', '--heap-growing-percent=50'];
    // The image runs Node on jemalloc (installed from Debian); ./kubetrail too when the machine has it, else glibc
    // kept to two arenas and trimmed (as the npm bin's shebang does).
    const jemalloc = { LD_PRELOAD: 'libjemalloc.so.2', MALLOC_CONF: 'narenas:2,dirty_decay_ms:1000,muzzy_decay_ms:0' };
    const malloc = ['MALLOC_TRIM_THRESHOLD_=131072', 'MALLOC_ARENA_MAX=2'];
    expect(entrypoint.slice(1, 3)).toEqual(flags);
    expect(dockerfile).toMatch(/^RUN apt-get update && apt-get install -y --no-install-recommends libjemalloc2 /m);
    for (const [name, value] of Object.entries(jemalloc)) expect(dockerfile.split('\n').map((l) => l.trim())).toContain(`${name}=${value} \\`); // in the ENV block
    const script = readFileSync(join(root, 'kubetrail'), 'utf8');
    expect(script).toContain(` ${flags.join(' ')} `);
    expect(script).toContain(`export LD_PRELOAD=${jemalloc.LD_PRELOAD} MALLOC_CONF=\${MALLOC_CONF-${jemalloc.MALLOC_CONF}}`);
    expect(script).toContain('export MALLOC_TRIM_THRESHOLD_=${MALLOC_TRIM_THRESHOLD_-131072} MALLOC_ARENA_MAX=${MALLOC_ARENA_MAX-2}');
    expect(script).toMatch(/^export NODE_COMPILE_CACHE=\$\{NODE_COMPILE_CACHE-/m); // from the start: see fill-compile-cache.ts
    expect(readFileSync(join(root, 'src/cli.ts'), 'utf8').split('\n')[0]).toBe(`#!/usr/bin/env -S ${malloc.join(' ')} node ${flags.join(' ')}`);
    // The image fills Node's compile cache at build time (RUN …), with the ENTRYPOINT's flags (Node keeps a cache
    // per set of V8 flags), and every start reads it (ENV NODE_COMPILE_CACHE).
    const cacheDir = dockerfile.match(/^\s+NODE_COMPILE_CACHE=(\S+)$/m)![1];
    const warm = dockerfile.match(/^RUN (node .* src\/runtime\/fill-compile-cache\.ts)$/m)![1].split(' ');
    expect(warm.slice(1, 3)).toEqual(flags);
    const cache = join(tempDir('docker-cache'), cacheDir.replace('/app/', ''));
    execFileSync(process.execPath, warm.slice(1), { cwd: root, env: { ...process.env, NODE_COMPILE_CACHE: cache }, stdio: 'ignore' });
    const cached = readdirSync(cache, { recursive: true }).sort();
    expect(cached.length).toBeGreaterThan(500);
    const data = tempDir('docker-data');
    const config = join(data, 'kubetrail.yaml');
    writeFileSync(config, stringify({
      remote: { url: server.repoUrl('d.git'), allowInsecureHttp: true }, // the test's git server speaks http on loopback
      clusters: [{ id: 'docker', kubeconfig: testenv().KUBECONFIG, namespaces: ['kubetrail'], select: ['core.v1.ServiceAccount'] }],
    }));
    // The image's ENV, with its paths pointed at this machine.
    const res = await runCli(cmd, {
      command: [process.execPath, entrypoint.slice(1).map((a) => a.replace('/app/', `${root}/`))],
      env: { HOME: '/tmp', NODE_COMPILE_CACHE: cache, ...jemalloc, KUBETRAIL_CONFIG: config, KUBETRAIL_REPO: join(data, 'repo'), KUBETRAIL_GIT_TOKEN: 't' }, cwd: '/',
    });
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(git(join(data, 'repo'), ['log', '--format=%s']).trim()).toBe('docker: +1 ~0 -0');
    expect(res.stdout).toMatch(/push: [0-9a-f]{10} after 1 attempt/);
    // Everything the run loaded was compiled at build time: nothing stripped or compiled again (the image's cache
    // is read-only; a module missing from it would load Node's TypeScript stripper, ~17 MB for the run's life).
    expect(readdirSync(cache, { recursive: true }).sort()).toEqual(cached);
  });
});
