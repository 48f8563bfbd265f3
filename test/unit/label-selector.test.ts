import { describe, expect, it } from 'vitest';
import { parseLabelSelector } from '../../src/snapshot/label-selector.ts';

describe('parseLabelSelector', () => {
  it.each([
    ['owner=helm', { owner: 'helm' }, true],
    ['owner==helm', { owner: 'helm' }, true],
    ['owner=helm', { owner: 'Helm' }, false],
    ['owner=helm', undefined, false],
    ['owner!=helm', {}, true],
    ['owner!=helm', { owner: 'helm' }, false],
    ['owner in (helm,TILLER)', { owner: 'TILLER' }, true],
    ['owner in (helm, TILLER)', { owner: 'x' }, false],
    ['owner notin (helm)', {}, true],
    ['owner notin (helm)', { owner: 'helm' }, false],
    ['app.kubernetes.io/managed-by', { 'app.kubernetes.io/managed-by': 'Helm' }, true],
    ['!tier', { tier: 'x' }, false],
    ['!tier', {}, true],
    ['owner=helm,status in (deployed,superseded)', { owner: 'helm', status: 'superseded' }, true],
    ['owner=helm,status in (deployed,superseded)', { owner: 'helm', status: 'failed' }, false],
    ['toString', {}, false], // own labels only
  ])('%s on %j → %s', (selector, labels, expected) => {
    expect(parseLabelSelector(selector).matches(labels)).toBe(expected);
  });

  it.each(['', 'owner in helm', 'owner=he lm', 'owner in ()', 'a,,b', '=x', 'owner = (x)'])('rejects %j', (s) => {
    expect(() => parseLabelSelector(s)).toThrow(/invalid label selector/);
  });
});
