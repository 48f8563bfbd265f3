// The timeline page's pure parts: the session cookie, the sign-in redirect, the time axis, counts by type, forge
// links, and the diff table's escaping of hostile recorded values.
import { describe, expect, it } from 'vitest';
import { safeNext } from '../../src/ui/auth.ts';
import { diffRows, diffTable } from '../../src/ui/diff-view.ts';
import { forgeLinks } from '../../src/ui/forge-links.ts';
import { objectUrl } from '../../src/ui/format.ts';
import { isToken, sessionValue, validSession } from '../../src/ui/session.ts';
import { timeBuckets, timelineEntry, withName } from '../../src/ui/timeline-model.ts';
import type { RemoteConfig } from '../../src/config/types.ts';

describe('session cookie', () => {
  const now = 1_800_000_000;
  it('is valid for its token until it expires, and is not the token', () => {
    const v = sessionValue('tok-A', now + 60);
    expect(v).not.toContain('tok-A');
    expect(validSession(v, ['tok-A'], now)).toBe(true);
    expect(validSession(v, ['other', 'tok-A'], now)).toBe(true);
    expect(validSession(v, ['tok-A'], now + 60)).toBe(false); // expired
    expect(validSession(v, ['tok-B'], now)).toBe(false); // the token was rotated
  });
  it('refuses a changed expiry, a forged mac, and garbage', () => {
    const v = sessionValue('tok-A', now + 60);
    expect(validSession(v.replace(`.${now + 60}.`, `.${now + 6000}.`), ['tok-A'], now)).toBe(false);
    expect(validSession(`v1.${now + 60}.${'A'.repeat(43)}`, ['tok-A'], now)).toBe(false);
    for (const bad of [undefined, '', 'tok-A', 'v1..x', `v2.${now + 60}.${v.split('.')[2]}`]) expect(validSession(bad, ['tok-A'], now)).toBe(false);
  });
  it('compares tokens whole', () => {
    expect(isToken('tok-A', ['tok-A'])).toBe(true);
    expect(isToken('tok-', ['tok-A'])).toBe(false);
    expect(isToken('tok-AB', ['tok-A'])).toBe(false);
    expect(isToken('', [])).toBe(false);
  });
});

describe('sign-in redirect', () => {
  it.each([
    ['/ui/timeline?cluster=a', '/ui/timeline?cluster=a'], ['/ui', '/ui'], ['//evil.example/ui/', '/ui/'],
    ['https://evil.example/ui/', '/ui/'], ['/ui\\@evil', '/ui/'], ['/api/v1/clusters', '/ui/'], [undefined, '/ui/'], ['/uix', '/ui/'],
  ])('%s → %s', (next, to) => expect(safeNext(next)).toBe(to));
});

describe('time axis', () => {
  it('counts commits per hour over at least 24 hours, ending at the newest', () => {
    const b = timeBuckets(['2026-12-01T10:05:00Z', '2026-12-01T10:59:00Z', '2026-12-01T08:00:00Z']);
    expect(b).toHaveLength(24);
    expect(new Date(b.at(-1)!.start).toISOString()).toBe('2026-12-01T10:00:00.000Z');
    expect(b.at(-1)!.commits).toBe(2);
    expect(b.at(-3)!.commits).toBe(1);
    expect(b.reduce((n, x) => n + x.commits, 0)).toBe(3);
  });
  it('counts per day over a longer span', () => {
    const b = timeBuckets(['2026-12-01T10:00:00Z', '2026-11-01T10:00:00Z']);
    expect(b[1].end - b[1].start).toBe(86_400_000);
    expect(b).toHaveLength(31);
    expect(timeBuckets([])).toEqual([]);
  });
});

describe('timeline entries', () => {
  const change = (type: string, name: string, kind: 'added' | 'changed' | 'deleted', managers?: string[]) => ({
    clusterId: 'c1', type, namespace: 'shop', name, path: `clusters/c1/${type}/shop/${name}.yaml`, kind,
    diff: { added: [], removed: [], updated: [] }, ...(managers && { managers: managers.map((manager) => ({ manager })) }),
  });
  const commit = { commit: 'a'.repeat(40), time: '2026-12-01T10:00:00.000Z', subject: 'c1: +1 ~2 -1', objects: [
    change('apps.v1.Deployment', 'checkout', 'changed', ['kubectl-set']), change('apps.v1.Deployment', 'cart', 'added', ['helm', 'kubectl-set']),
    change('core.v1.ConfigMap', 'checkout-settings', 'changed'), change('apps.v1.Deployment', 'old', 'deleted', ['unknown']),
  ] };
  it('counts by type and kind and names the managers once', () => {
    const e = timelineEntry(commit);
    expect(e.types).toEqual([{ type: 'apps.v1.Deployment', added: 1, changed: 1, deleted: 1 }, { type: 'core.v1.ConfigMap', added: 0, changed: 1, deleted: 0 }]);
    expect(e.managers).toEqual(['helm', 'kubectl-set', 'unknown']);
    expect(e.clusterIds).toEqual(['c1']);
  });
  it('filters by name, dropping commits left empty', () => {
    expect(withName([commit], 'CHECKOUT')[0].objects.map((o) => o.name)).toEqual(['checkout', 'checkout-settings']);
    expect(withName([commit], 'nothing')).toEqual([]);
    expect(withName([commit], undefined)).toEqual([commit]);
  });
});

describe('forge links', () => {
  const remote = (url: string, pullRequest?: object) => ({ url, branch: 'main', ...(pullRequest && { pullRequest }) }) as RemoteConfig;
  it('links commits on GitHub and a merged pull request', () => {
    const f = forgeLinks(remote('https://x-access-token:secret@github.com/acme/history.git'))!;
    expect(f.commit('b'.repeat(40))).toBe(`https://github.com/acme/history/commit/${'b'.repeat(40)}`);
    expect(f.mergedPullRequest('Merge pull request #12 from acme/kubetrail/prod')).toBe('https://github.com/acme/history/pull/12');
    expect(f.mergedPullRequest('prod: +1 ~0 -0')).toBeUndefined();
    expect(f.clusterPullRequest('prod')).toBeUndefined(); // no pull-request mode
  });
  it('links Gitea pull requests and the cluster PR branch', () => {
    const f = forgeLinks(remote('https://git.example.com/sub/acme/history.git', { base: 'main', forge: 'gitea' }))!;
    expect(f.mergedPullRequest("Merge pull request 'prod: +1' (#7) from kubetrail/prod into main")).toBe('https://git.example.com/sub/acme/history/pulls/7');
    expect(f.clusterPullRequest('prod')).toBe('https://git.example.com/sub/acme/history/compare/main...kubetrail/prod');
  });
  it('has none for an ssh remote or none at all', () => {
    expect(forgeLinks(remote('git@github.com:acme/history.git'))).toBeUndefined();
    expect(forgeLinks(undefined)).toBeUndefined();
  });
});

describe('diff table', () => {
  const hostile = '"><script>alert(1)</script><img src=x onerror=alert(2)>';
  it('shows hostile paths and values as text only', async () => {
    const out = String(await diffTable({
      added: [{ path: `metadata.labels[${JSON.stringify(hostile)}]`, value: hostile }],
      removed: [{ path: 'spec.x', value: { isEscaped: true, toString: hostile, nested: [hostile] } }],
      updated: [{ path: 'spec.replicas', from: 2, to: 5 }],
    }, hostile, 'b'));
    expect(out).not.toMatch(/<script|<img/);
    expect(out).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(out).toContain('isEscaped: true'); // an object that looks like escaped HTML is still stringified data
  });
  it('orders rows by path, with absent sides', () => {
    expect(diffRows({ added: [{ path: 'b', value: 1 }], removed: [{ path: 'a', value: 2 }], updated: [{ path: 'c', from: 1, to: 2 }] }).map((r) => `${r.path}:${r.change}`))
      .toEqual(['a:removed', 'b:added', 'c:updated']);
  });
  it('encodes object URLs segment by segment', () => {
    expect(objectUrl({ clusterId: 'c1', type: 'core.v1.ConfigMap', name: 'a b?c' })).toBe('/ui/clusters/c1/objects/core.v1.ConfigMap/_cluster/a%20b%3Fc');
  });
});
