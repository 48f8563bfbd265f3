// Guarded mode's classification over the default and configured type patterns.
import { describe, expect, it } from 'vitest';
import { classifyChanges, compileGuarded } from '../../src/review/guarded.ts';

const changes = (paths: string[], kind: 'added' | 'changed' | 'deleted' = 'changed') =>
  ({ added: [], changed: [], deleted: [], [kind]: paths });

describe('classifyChanges', () => {
  const defaults = compileGuarded();
  it.each([
    ['rbac.authorization.k8s.io.v1.ClusterRole/_cluster/view.yaml', 'rbac.authorization.k8s.io.v1.ClusterRole'],
    ['rbac.authorization.k8s.io.v1.RoleBinding/shop/edit.yaml', 'rbac.authorization.k8s.io.v1.RoleBinding'],
    ['core.v1.Secret/shop/db.yaml', 'core.v1.Secret'],
    ['apiextensions.k8s.io.v1.CustomResourceDefinition/_cluster/widgets.example.com.yaml', 'apiextensions.k8s.io.v1.CustomResourceDefinition'],
    ['admissionregistration.k8s.io.v1.ValidatingWebhookConfiguration/_cluster/x.yaml', 'admissionregistration.k8s.io.v1.ValidatingWebhookConfiguration'],
  ])('%s is guarded by default', (path, type) => {
    for (const kind of ['added', 'changed', 'deleted'] as const) {
      expect(classifyChanges(changes([path], kind), defaults)).toEqual({ review: true, reasons: [type] });
    }
  });
  it.each([
    'core.v1.ConfigMap/shop/app.yaml',
    'apps.v1.Deployment/shop/checkout.yaml',
    'example.com.v1.Secret/shop/lookalike.yaml', // a Secret Kind of another group is not core's Secret
    'rbac.authorization.example.com.v1.Role/shop/x.yaml', // a group that only starts like RBAC's
  ])('%s is routine by default', (path) => {
    expect(classifyChanges(changes([path]), defaults)).toEqual({ review: false, reasons: [] });
  });
  it('a refused mass deletion goes to review whatever the types', () => {
    expect(classifyChanges(changes(['core.v1.ConfigMap/shop/a.yaml'], 'deleted'), defaults, { massDeletion: true }))
      .toEqual({ review: true, reasons: ['mass deletion'] });
  });
  it('names each guarded type once, sorted, among routine ones', () => {
    const c = { added: ['core.v1.Secret/a/x.yaml'], changed: ['core.v1.ConfigMap/a/y.yaml', 'core.v1.Secret/b/z.yaml'], deleted: ['rbac.authorization.k8s.io.v1.Role/a/r.yaml'] };
    expect(classifyChanges(c, defaults).reasons).toEqual(['core.v1.Secret', 'rbac.authorization.k8s.io.v1.Role']);
  });
  it('configured patterns replace the defaults', () => {
    const own = compileGuarded(['apps.*', '*.ConfigMap']);
    expect(classifyChanges(changes(['core.v1.ConfigMap/shop/app.yaml']), own).review).toBe(true);
    expect(classifyChanges(changes(['apps.v1.Deployment/shop/c.yaml']), own).review).toBe(true);
    expect(classifyChanges(changes(['core.v1.Secret/shop/db.yaml']), own).review).toBe(false);
  });
  it('an unusable pattern is refused with the pattern named', () => {
    expect(() => compileGuarded(['rbac.[oops'])).toThrow(/invalid type pattern "rbac\.\[oops"/);
  });
});
