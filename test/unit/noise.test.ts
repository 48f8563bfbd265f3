import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/errors.ts';
import { DEFAULT_DISCOVERY, validateConfig } from '../../src/config/validate.ts';
import type { KubeObject } from '../../src/model/kube-object.ts';
import { parseTypeName } from '../../src/model/type-name.ts';
import { NoisePolicy } from '../../src/snapshot/noise.ts';
import { hmacRedactor, REDACTED_WITHOUT_KEY } from '../../src/snapshot/redact-value.ts';
import { renderObject } from '../../src/sync/sync.ts';

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';
const policy = (over: Partial<typeof DEFAULT_DISCOVERY> = {}, key: { hmac?: string } = { hmac: 'k' }) =>
  new NoisePolicy({ ...DEFAULT_DISCOVERY, ...over }, hmacRedactor(key.hmac));
const render = (p: NoisePolicy, type: string, obj: object) =>
  renderObject(structuredClone(obj) as KubeObject, { keepStatus: false, hmacKey: 'k', noise: p.forType(parseTypeName(type)!) }).toString();

const deployment = {
  apiVersion: 'apps/v1', kind: 'Deployment',
  metadata: { name: 'web', namespace: 'ns', annotations: { [LAST_APPLIED]: '{"spec":{"template":{"spec":{"containers":[{"name":"web","env":[{"name":"DB_PASSWORD","value":"hunter2"}]}]}}}}\n' } },
  spec: { template: { metadata: { creationTimestamp: null, labels: { app: 'web' } }, spec: { containers: [{ name: 'web', env: [{ name: 'DB_PASSWORD', value: 'hunter2' }, { name: 'MODE', value: 'x' }] }] } } },
};

describe('NoisePolicy defaults', () => {
  it('drops last-applied and the template creationTimestamp, and HMACs credential env values', () => {
    const yaml = render(policy(), 'apps.v1.Deployment', deployment);
    expect(yaml).not.toContain('hunter2');
    expect(yaml).not.toContain('last-applied');
    expect(yaml).not.toContain('annotations'); // emptied by the rules: left out
    expect(yaml).not.toContain('creationTimestamp');
    expect(yaml).toMatch(/name: DB_PASSWORD\n\s+value: hmac-sha256:[0-9a-f]{64}\n/);
    expect(yaml).toContain('value: x');
  });

  it('each default is switchable', () => {
    const yaml = render(policy({
      keepLastApplied: true,
      defaultIgnoreFields: { ...DEFAULT_DISCOVERY.defaultIgnoreFields, templateCreationTimestamp: false },
      defaultRedactFields: { ...DEFAULT_DISCOVERY.defaultRedactFields, envSecrets: false },
    }), 'apps.v1.Deployment', deployment);
    expect(yaml).toContain('value: hunter2');
    expect(yaml).toContain('creationTimestamp: null');
    expect(yaml).toContain('last-applied-configuration');
  });

  it('a kept last-applied annotation has the same values redacted inside it', () => {
    const yaml = render(policy({ keepLastApplied: true }), 'apps.v1.Deployment', deployment);
    expect(yaml).toContain('last-applied-configuration');
    expect(yaml).not.toContain('hunter2');
  });

  it('without an HMAC key a redacted value becomes a fixed marker, never an unkeyed digest', () => {
    expect(render(policy({}, {}), 'apps.v1.Deployment', deployment)).toContain(REDACTED_WITHOUT_KEY);
  });

  it('redacts Helm release ConfigMaps by label, ignores the cluster-autoscaler status ConfigMap', () => {
    const p = policy();
    const cm = p.forType(parseTypeName('core.v1.ConfigMap')!);
    const release = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'sh.helm.release.v1.a.v1', namespace: 'ns', labels: { owner: 'helm' } }, data: { release: 'H4sI' } };
    expect(render(p, 'core.v1.ConfigMap', release)).toMatch(/release: hmac-sha256:/);
    expect(render(p, 'core.v1.ConfigMap', { ...release, metadata: { ...release.metadata, labels: { OWNER: 'TILLER' } } })).toMatch(/release: hmac-sha256:/);
    expect(render(p, 'core.v1.ConfigMap', { ...release, metadata: { ...release.metadata, labels: {} } })).toContain('release: H4sI');
    expect(cm.ignoresObject({ name: 'cluster-autoscaler-status', namespace: 'kube-system' })).toBe(true);
    expect(cm.ignoresObject({ name: 'cluster-autoscaler-status', namespace: 'other' })).toBe(false);
    expect(policy({ defaultIgnoreObjects: { clusterAutoscalerStatus: false } }).forType(parseTypeName('core.v1.ConfigMap')!)
      .ignoresObject({ name: 'cluster-autoscaler-status', namespace: 'kube-system' })).toBe(false);
  });

  it('keeps the Secret last-applied annotation for redact.ts to HMAC', () => {
    const secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', annotations: { [LAST_APPLIED]: '{"stringData":{"p":"hunter2"}}' } }, stringData: { p: 'hunter2' } };
    const yaml = render(policy(), 'core.v1.Secret', secret);
    expect(yaml).toMatch(/last-applied-configuration: hmac-sha256:/);
    expect(yaml).not.toContain('hunter2');
  });

  it('rules apply to Secrets too, before their values are HMAC\'d', () => {
    const p = policy({ ignoreFields: [{ type: 'core.v1.Secret', paths: ['metadata.annotations["example.com/rotated-at"]', 'stringData.tmp'] }] });
    const secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', annotations: { 'example.com/rotated-at': '1', keep: 'k' } }, stringData: { p: 'hunter2', tmp: 'x' } };
    const yaml = render(p, 'core.v1.Secret', secret);
    expect(yaml).not.toContain('rotated-at');
    expect(yaml).not.toContain('tmp');
    expect(yaml).toMatch(/p: hmac-sha256:/);
  });

  it('user rules apply by type pattern, namespace and label selector', () => {
    const p = policy({ ignoreFields: [{ type: 'core.v1.ConfigMap', labelSelector: 'tier=web', paths: ['data.stamp'] }] });
    const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', labels: { tier: 'web' } }, data: { stamp: '1', keep: '2' } };
    expect(render(p, 'core.v1.ConfigMap', cm)).not.toContain('stamp');
    expect(render(p, 'core.v1.ConfigMap', { ...cm, metadata: { name: 'c' } })).toContain('stamp');
    expect(render(p, 'apps.v1.Deployment', cm)).toContain('stamp');
  });

  it('lists the rules in force as data, for the render fingerprint', () => {
    expect(policy().rules.ignoreFields.some((r) => r.paths.some((x) => x.includes('control-plane.alpha.kubernetes.io/leader')))).toBe(true);
    expect(policy({ defaultIgnoreFields: { ...DEFAULT_DISCOVERY.defaultIgnoreFields, leaderElection: false } }).rules)
      .not.toEqual(policy().rules);
  });
});

describe('noise config', () => {
  const error = (cluster: object) => {
    try {
      validateConfig({ clusters: [{ id: 'a', ...cluster }] });
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      return (e as ConfigError).message;
    }
    throw new Error('expected a ConfigError');
  };

  it.each([
    [{ ignoreFields: [{ type: 'core.v1.ConfigMap', paths: ['data..x'] }] }, /^clusters\[0\]\.ignoreFields\[0\]\.paths\[0\]: invalid field path/],
    [{ redactFields: [{ type: 'core.v1.ConfigMap', paths: [] }] }, /^clusters\[0\]\.redactFields\[0\]\.paths: must be a non-empty list/],
    [{ ignoreObjects: [{ type: 'core.v1.ConfigMap', labelSelector: 'owner in helm' }] }, /^clusters\[0\]\.ignoreObjects\[0\]\.labelSelector: invalid label selector/],
    [{ ignoreObjects: [{ type: 'core.v1.ConfigMap' }] }, /^clusters\[0\]\.ignoreObjects\[0\]: needs namespace, name or labelSelector/],
    [{ ignoreFields: [{ type: 'core v1', paths: ['a'] }] }, /^clusters\[0\]\.ignoreFields\[0\]\.type: invalid type pattern/],
    [{ ignoreFields: [{ typ: 'x', paths: ['a'] }] }, /^clusters\[0\]\.ignoreFields\[0\]\.typ: unknown key/],
    [{ defaultIgnoreFields: { leaderElections: false } }, /^clusters\[0\]\.defaultIgnoreFields\.leaderElections: unknown default/],
    [{ keepLastApplied: 'yes' }, /^clusters\[0\]\.keepLastApplied: must be true or false/],
  ])('names the field: %j', (cluster, message) => {
    expect(error(cluster)).toMatch(message);
  });

  it('takes rules from defaults, a cluster overrides them', () => {
    const c = validateConfig({
      defaults: { ignoreFields: [{ type: 'core.v1.ConfigMap', paths: ['data.x'] }], defaultRedactFields: { envSecrets: false } },
      clusters: [{ id: 'a' }, { id: 'b', ignoreFields: [], keepLastApplied: true }],
    });
    expect(c.clusters[0].discovery.ignoreFields).toEqual([{ type: 'core.v1.ConfigMap', paths: ['data.x'] }]);
    expect(c.clusters[0].discovery.defaultRedactFields).toEqual({ envSecrets: false, helmValues: true, helmReleaseConfigMaps: true });
    expect(c.clusters[1].discovery).toMatchObject({ ignoreFields: [], keepLastApplied: true });
  });
});
