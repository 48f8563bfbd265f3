import { describe, expect, it } from 'vitest';
import { LAST_APPLIED, redactSecret } from '../../src/snapshot/redact.ts';
import { renderObject } from '../../src/sync/sync.ts';

const canary = 'canary-s3cr3t-value';
const secret = {
  apiVersion: 'v1', kind: 'Secret', type: 'Opaque',
  metadata: { name: 's', namespace: 'ns', annotations: { [LAST_APPLIED]: JSON.stringify({ data: { password: Buffer.from(canary).toString('base64') } }) } },
  data: { password: Buffer.from(canary).toString('base64') },
  stringData: { token: canary },
};

describe('redactSecret', () => {
  it('replaces every value and the last-applied annotation, keeping keys', () => {
    const yaml = renderObject(secret, { keepStatus: false, hmacKey: 'k' }).toString();
    expect(yaml).not.toContain(canary);
    expect(yaml).not.toContain(Buffer.from(canary).toString('base64'));
    expect(yaml).toMatch(/password: hmac-sha256:[0-9a-f]{64}/);
    expect(yaml).toMatch(/token: hmac-sha256:[0-9a-f]{64}/);
    expect(yaml).toMatch(/last-applied-configuration: hmac-sha256:[0-9a-f]{64}/);
  });

  it('keeps a data key named __proto__, redacted', () => {
    const odd = JSON.parse(`{"apiVersion":"v1","kind":"Secret","metadata":{"name":"s"},"data":{"__proto__":"${Buffer.from(canary).toString('base64')}"}}`);
    const yaml = renderObject(odd, { keepStatus: false, hmacKey: 'k' }).toString();
    expect(yaml).toMatch(/__proto__: hmac-sha256:[0-9a-f]{64}/);
    expect(yaml).not.toContain(Buffer.from(canary).toString('base64'));
  });

  it('gives the same digest for the same value in data and stringData, another for another value or key', () => {
    const r = redactSecret(secret, 'k') as any;
    expect(r.data.password).toBe(r.stringData.token);
    expect((redactSecret({ ...secret, data: { password: 'b3RoZXI=' } }, 'k') as any).data.password).not.toBe(r.data.password);
    expect((redactSecret(secret, 'other-key') as any).data.password).not.toBe(r.data.password);
  });

  it('stores values as they are only in the explicit plaintext mode', () => {
    expect(renderObject(secret, { keepStatus: false, hmacKey: undefined }).toString()).toContain(canary);
  });
});
