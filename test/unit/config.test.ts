import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/errors.ts';
import { validateConfig } from '../../src/config/validate.ts';

const fieldOf = (raw: unknown, env = {}) => {
  try {
    validateConfig(raw, env);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).message;
  }
  throw new Error('expected a ConfigError');
};

describe('validateConfig', () => {
  it('fills defaults for a minimal config', () => {
    const c = validateConfig({ clusters: [{ id: 'prod-us' }] });
    expect(c.clusters[0]).toMatchObject({ id: 'prod-us', name: 'prod-us', tags: {} });
    expect(c.clusters[0].discovery).toMatchObject({ includeSecrets: false, includeCRDs: true, concurrency: 4, maxDeletePercent: 50 });
    expect(c.repo).toBe('./kubetrail-repo');
  });

  it('lets a cluster override global discovery defaults', () => {
    const c = validateConfig({ defaults: { ignore: ['*.Event'], concurrency: 2 }, clusters: [{ id: 'a' }, { id: 'b', concurrency: 8 }] });
    expect(c.clusters[0].discovery).toMatchObject({ ignore: ['*.Event'], concurrency: 2 });
    expect(c.clusters[1].discovery).toMatchObject({ ignore: ['*.Event'], concurrency: 8 });
  });

  it.each([
    [{ clusters: [{ id: 'a', conection: {} }] }, /^clusters\[0\]\.conection: unknown key/],
    [{ clusters: [{ id: 'a' }], bogus: 1 }, /^bogus: unknown key/],
    [{ clusters: [{ id: 'a' }, { id: 'b', connection: { server: 'http://x' } }] }, /^clusters\[1\]\.connection\.server: must be an https URL/],
    [{ clusters: [{ id: 'a' }, { id: 'a' }] }, /^clusters\[1\]\.id: duplicate cluster id "a"/],
    [{ clusters: [{ id: 'A_b' }] }, /^clusters\[0\]\.id: must be a DNS label/],
    [{ clusters: [{ id: 'a', kubeconfig: '/k', kubeconfigContent: 'x' }] }, /^clusters\[0\]\.kubeconfig: only one auth method/],
    [{ clusters: [{ id: 'a', select: ['apps.[v1'] }] }, /^clusters\[0\]\.select\[0\]: invalid type pattern/],
    [{ clusters: [{ id: 'a', ignore: 'x' }] }, /^clusters\[0\]\.ignore: must be a list of strings/],
    [{ clusters: [{ id: 'a', concurrency: 'four' }] }, /^clusters\[0\]\.concurrency: must be a whole number/],
    [{ clusters: [{ id: 'a' }], schedule: 'every minute' }, /^schedule: invalid cron expression/],
    [{ clusters: [{ id: 'a', schedule: '61 * * * *' }] }, /^clusters\[0\]\.schedule: invalid cron expression/],
    [{ clusters: [{ id: 'a', includeSecrets: true }] }, /^clusters\[0\]\.includeSecrets: .*KUBETRAIL_HMAC_KEY/],
    [{ clusters: [{ id: 'a', connection: { server: 'https://x', tokenEnv: 'NOPE' } }] }, /^clusters\[0\]\.connection\.tokenEnv: environment variable NOPE is not set/],
    [{ clusters: [] }, /^clusters: must be a non-empty list/],
    [{ clusters: [{ id: 'a' }], timezone: 'Mars/Base' }, /^timezone: unknown time zone/],
    [{ clusters: [{ id: 'a', tags: { env: 1 } }] }, /^clusters\[0\]\.tags\.env: must be a string/],
    [{ clusters: [{ id: 'a', defaultIgnores: { event: false } }] }, /^clusters\[0\]\.defaultIgnores\.event: unknown key/],
    [{ clusters: [{ id: 'a' }], remote: { url: 'ftp://x' } }, /^remote\.url: must be an http\(s\) URL/],
  ])('names the field: %j', (raw, message) => {
    expect(fieldOf(raw)).toMatch(message);
  });

  it('takes secrets from the environment, not the file', () => {
    const c = validateConfig({ clusters: [{ id: 'a', includeSecrets: true, connection: { server: 'https://x', tokenEnv: 'TOK' } }] },
      { KUBETRAIL_HMAC_KEY: 'key', TOK: 'token' });
    expect(c.secrets.hmacKey).toBe('key');
    expect(c.clusters[0].connection?.token).toBe('token');
  });
});
