import { describe, expect, it } from 'vitest';
import { AuditLog, describeWriter } from '../../src/audit/audit-log.ts';

// Events as a v1.37 apiserver's webhook sends them (RequestResponse level; responseObject cut to what matters).
const event = (o: { verb: string; user: string; name: string; rv?: string; uid?: string; code?: number; subresource?: string; stage?: string; status?: boolean; as?: string }) => ({
  kind: 'Event', apiVersion: 'audit.k8s.io/v1', level: 'RequestResponse', stage: o.stage ?? 'ResponseComplete', verb: o.verb,
  requestURI: `/api/v1/namespaces/shop/configmaps/${o.name}`, auditID: 'x',
  user: { username: o.user, groups: ['system:authenticated'] },
  ...(o.as ? { impersonatedUser: { username: o.as } } : {}),
  userAgent: 'kubectl/v1.37.2 (linux/amd64) kubernetes/abcdef0',
  objectRef: { resource: 'configmaps', namespace: 'shop', name: o.name, apiVersion: 'v1', ...(o.subresource ? { subresource: o.subresource } : {}) },
  responseStatus: { metadata: {}, code: o.code ?? 200 },
  responseObject: o.status
    ? { kind: 'Status', apiVersion: 'v1', status: 'Success', details: { name: o.name, kind: 'configmaps', uid: o.uid } }
    : { kind: 'ConfigMap', apiVersion: 'v1', metadata: { name: o.name, namespace: 'shop', uid: o.uid ?? 'u1', resourceVersion: o.rv } },
  stageTimestamp: '2026-12-01T10:00:00.000000Z',
});
const list = (...items: unknown[]) => ({ kind: 'EventList', apiVersion: 'audit.k8s.io/v1', metadata: {}, items });
const cm = (name: string) => ({ group: '', resource: 'configmaps', namespace: 'shop', name });

describe('AuditLog', () => {
  it('names the writer of exactly the resourceVersion a sync read, and nobody for another version', () => {
    const log = new AuditLog();
    expect(log.add('prod', list(event({ verb: 'patch', user: 'alice', name: 'a', rv: '101' }), event({ verb: 'update', user: 'bob', name: 'a', rv: '102' })))).toBe(2);
    expect(log.writerOf('prod', cm('a'), '101')?.username).toBe('alice');
    expect(log.writerOf('prod', cm('a'), '102')?.username).toBe('bob');
    expect(log.writerOf('prod', cm('a'), '103')).toBeUndefined(); // a later write not heard: not the last one heard
    expect(log.writerOf('other', cm('a'), '101')).toBeUndefined(); // another cluster's object of the same name
    expect(log.writerOf('prod', { ...cm('a'), namespace: 'dev' }, '101')).toBeUndefined();
  });

  it('names who deleted the object with a given uid (a Status response names it)', () => {
    const log = new AuditLog();
    log.add('prod', list(event({ verb: 'delete', user: 'alice', name: 'gone', uid: 'uid-1', status: true })));
    expect(log.deleterOf('prod', cm('gone'), 'uid-1')?.username).toBe('alice');
    expect(log.deleterOf('prod', cm('gone'), 'uid-2')).toBeUndefined(); // a re-created object of the same name
  });

  it('keeps only successful writes of named objects at ResponseComplete, not status updates', () => {
    const log = new AuditLog();
    const kept = log.add('prod', list(
      event({ verb: 'get', user: 'alice', name: 'a', rv: '1' }),
      event({ verb: 'patch', user: 'alice', name: 'a', rv: '2', code: 409 }),
      event({ verb: 'patch', user: 'alice', name: 'a', rv: '3', stage: 'RequestReceived' }),
      event({ verb: 'update', user: 'controller', name: 'a', rv: '4', subresource: 'status' }),
      { not: 'an event' },
    ));
    expect(kept).toBe(0);
    expect(log.size).toBe(0);
  });

  it('refuses a body that is not an EventList', () => {
    expect(() => new AuditLog().add('prod', { kind: 'Pod' })).toThrow(/EventList/);
    expect(() => new AuditLog().add('prod', list('x').items)).toThrow(/EventList/);
  });

  it('forgets events after the retention time and beyond the event limit', () => {
    let now = 0;
    const log = new AuditLog({ retentionMs: 1000, maxEvents: 2 }, () => now);
    log.add('prod', list(event({ verb: 'patch', user: 'alice', name: 'a', rv: '1' })));
    now = 500;
    log.add('prod', list(event({ verb: 'patch', user: 'bob', name: 'b', rv: '2' }), event({ verb: 'patch', user: 'carol', name: 'c', rv: '3' })));
    expect(log.size).toBe(2); // alice's was the oldest beyond maxEvents
    expect(log.writerOf('prod', cm('a'), '1')).toBeUndefined();
    now = 1600;
    expect(log.writerOf('prod', cm('b'), '2')).toBeUndefined();
    expect(log.size).toBe(0);
  });

  it('says who as a person reads it, with impersonation and the client', () => {
    const log = new AuditLog();
    log.add('prod', list(event({ verb: 'patch', user: 'admin', as: 'alice', name: 'a', rv: '7' })));
    expect(describeWriter(log.writerOf('prod', cm('a'), '7')!)).toBe('admin as alice (kubectl/v1.37.2)');
  });
});
