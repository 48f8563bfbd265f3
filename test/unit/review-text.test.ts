// The pull request's text: title, hidden markers, change table, flags, the 65,536-character cap, comments.
import { describe, expect, it } from 'vitest';
import {
  BODY_LIMIT, changesComment, clusterMarker, flagsFor, foreignPushComment, markedCluster, markedTree, prBody, prTitle,
} from '../../src/review/text.ts';
import type { MassDeletion } from '../../src/sync/result.ts';

const TREE = '3f'.repeat(20);
const none = { added: [], changed: [], deleted: [] };
const mass: MassDeletion = { deleted: 27, recorded: 30, maxDeletePercent: 50 };
const body = (changes: typeof none | { added: string[]; changed: string[]; deleted: string[] }, o: { limit?: number; massDeletion?: MassDeletion } = {}) => prBody({
  clusterId: 'prod-us', tree: TREE, changes, firstObserved: new Date('2026-12-01T08:00:00Z'), lastObserved: new Date('2026-12-01T09:30:00Z'),
  compareUrl: 'https://github.com/acme/history/compare/main...kubetrail/prod-us', ...o,
});

describe('PR text', () => {
  it('title: counts and the base it is measured against', () => {
    expect(prTitle('prod-us', { added: ['a', 'b'], changed: ['c'], deleted: [] }, '553c2077f0edc3d5dc5d17262f6aa498e69d6f8e'))
      .toBe('prod-us: +2 ~1 -0 since 553c207');
  });

  it('body begins with the cluster marker and records the proposed tree; both read back', () => {
    const b = body(none);
    expect(b.startsWith(`${clusterMarker('prod-us')}\n`)).toBe(true);
    expect(markedCluster(b)).toBe('prod-us');
    expect(markedTree(b)).toBe(TREE);
    expect(markedCluster(`text\n${clusterMarker('x')}`)).toBeUndefined(); // only at the beginning
    expect(markedTree('no marker')).toBeUndefined();
  });

  it('a table by type and namespace, the objects, times, flags and the compare link', () => {
    const b = body({
      added: ['apps.v1.Deployment/shop/checkout.yaml', 'rbac.authorization.k8s.io.v1.ClusterRole/_cluster/view.yaml'],
      changed: ['apps.v1.Deployment/shop/cart.yaml', 'core.v1.ConfigMap/shop/app.yaml'],
      deleted: ['apps.v1.Deployment/web/old.yaml'],
    });
    expect(b).toContain('| apps.v1.Deployment | shop | 1 | 1 | 0 |');
    expect(b).toContain('| apps.v1.Deployment | web | 0 | 0 | 1 |');
    expect(b).toContain('| core.v1.ConfigMap | shop | 0 | 1 | 0 |');
    expect(b).toContain('| rbac.authorization.k8s.io.v1.ClusterRole | _cluster | 1 | 0 | 0 |');
    expect(b).toContain('- `+` rbac.authorization.k8s.io.v1.ClusterRole view'); // cluster-scoped: no namespace
    expect(b).toContain('- `-` apps.v1.Deployment web/old');
    expect(b).toContain('first observed: 2026-12-01T08:00:00.000Z');
    expect(b).toContain('last observed: 2026-12-01T09:30:00.000Z');
    expect(b).toContain('flags: **RBAC**');
    expect(b).toContain('compare: https://github.com/acme/history/compare/main...kubetrail/prod-us');
  });

  it('flags RBAC, Secrets, CRDs, admission webhooks and mass deletion', () => {
    expect(flagsFor({ added: ['core.v1.Secret/a/s.yaml', 'apiextensions.k8s.io.v1.CustomResourceDefinition/_cluster/w.example.com.yaml'],
      changed: ['admissionregistration.k8s.io.v1.MutatingWebhookConfiguration/_cluster/m.yaml'], deleted: ['rbac.authorization.k8s.io.v1.Role/a/r.yaml'] },
    { massDeletion: mass })).toEqual(['RBAC', 'Secrets', 'CRDs', 'admission webhooks', 'mass deletion']);
    expect(flagsFor({ added: ['core.v1.ConfigMap/a/c.yaml', 'example.com.v1.Secret/a/s.yaml'], changed: [], deleted: [] })).toEqual([]);
    expect(body(none, { massDeletion: mass })).toContain('flags: **mass deletion**');
  });

  it('a held mass deletion is said plainly in the body and in a comment: counts, the refusal, what merge and close mean', () => {
    const b = body({ added: [], changed: [], deleted: ['core.v1.ConfigMap/shop/a.yaml'] }, { massDeletion: mass });
    const notice = '> **Mass deletion.** This state deletes 27 of the 30 objects recorded on the base branch (more than maxDeletePercent 50%). ' +
      'Without pull requests kubetrail would have refused it; it is held here and the base branch is unchanged. ' +
      'Merge to accept the deletions, close without merging to reject them.';
    expect(b).toContain(`\n\n${notice}\n\n- first observed:`);
    expect(body(none)).not.toContain('Mass deletion');
    const c = changesComment('prod-us', { added: [], changed: [], deleted: ['core.v1.ConfigMap/shop/a.yaml'] }, new Date(0), { massDeletion: mass });
    expect(c).toContain(`-1\n\n${notice}\n\n- \`-\` core.v1.ConfigMap shop/a\n`);
  });

  it('a table cell cannot break the table or the markdown', () => {
    const b = body({ added: ['example.com.v1.Widget/ns/a|b`c.yaml'], changed: [], deleted: [] });
    expect(b).toContain("- `+` example.com.v1.Widget ns/a\\|b'c");
  });

  it('stays within 65,536 characters with an "… and N more" line, keeping the table', () => {
    const added = Array.from({ length: 5000 }, (_, i) => `apps.v1.Deployment/ns-${i % 20}/deployment-with-a-long-name-${String(i).padStart(5, '0')}.yaml`);
    const b = body({ added, changed: [], deleted: [] });
    expect(b.length).toBeLessThanOrEqual(BODY_LIMIT);
    expect(b.length).toBeGreaterThan(BODY_LIMIT - 200); // filled, not cut early
    const shown = b.split('\n').filter((l) => l.startsWith('- `+`')).length;
    expect(b).toContain(`… and ${5000 - shown} more`);
    expect(b).toContain('| apps.v1.Deployment | ns-19 | 250 | 0 | 0 |');
    expect(b.endsWith('</details>\n')).toBe(true);
  });

  it('when even the table does not fit, it is cut with "… and N more" too', () => {
    const added = Array.from({ length: 3000 }, (_, i) => `example.com.v1.Kind${i}/namespace-${i}/x.yaml`);
    const b = body({ added, changed: [], deleted: [] }, { limit: 10_000 });
    expect(b.length).toBeLessThanOrEqual(10_000);
    const rows = b.split('\n').filter((l) => l.startsWith('| example.com')).length;
    expect(b).toContain(`… and ${3000 - rows} more`);
    expect(b).not.toContain('<details>');
  });

  it('a comment lists only what is new since the last one, capped the same way', () => {
    const c = changesComment('prod-us', { added: [], changed: ['core.v1.ConfigMap/shop/app.yaml'], deleted: ['core.v1.ConfigMap/shop/old.yaml'] }, new Date('2026-12-01T10:00:00Z'));
    expect(c).toBe('New in **prod-us** since the last comment (observed 2026-12-01T10:00:00.000Z): +0 ~1 -1\n\n' +
      '- `~` core.v1.ConfigMap shop/app\n- `-` core.v1.ConfigMap shop/old\n');
    const many = changesComment('p', { added: Array.from({ length: 100 }, (_, i) => `core.v1.ConfigMap/n/c${i}.yaml`), changed: [], deleted: [] }, new Date(0), { limit: 1000 });
    expect(many.length).toBeLessThanOrEqual(1000);
    expect(many).toMatch(/… and \d+ more\n$/);
  });

  it('the foreign-push comment names the branch and its head', () => {
    expect(foreignPushComment('prod-us', 'kubetrail/prod-us', 'ee'.repeat(20))).toContain('`kubetrail/prod-us` is at eeeeeee');
  });
});
