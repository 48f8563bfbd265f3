import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/errors.ts';
import { loadConfig } from '../../src/config/load.ts';
import { branchNameProblem } from '../../src/config/ref-name.ts';
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
    expect(c.startJitterSeconds).toBe(0);
    expect(c.mode).toBe('sync');
    expect(c.watch).toEqual({ commitIntervalSeconds: 10, discoveryIntervalSeconds: 60 });
    expect(validateConfig({ clusters: [{ id: 'a' }], remote: { url: 'https://x' } }).remote?.pushAttempts).toBe(20);
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
    [{ clusters: [{ id: 'a' }], remote: { url: 'http://git.example.com/r.git' } }, /^remote\.url: http:\/\/ sends the git token in clear: .*remote\.allowInsecureHttp: true/],
    [{ clusters: [{ id: 'a' }], remote: { url: 'HTTP://127.0.0.1:8080/r.git' } }, /^remote\.url: http:\/\/ sends the git token in clear/],
    [{ clusters: [{ id: 'a' }], remote: { url: 'https://x', allowInsecureHttp: 'yes' } }, /^remote\.allowInsecureHttp: must be true or false/],
    [{ clusters: [{ id: 'a' }], branch: '../../config' }, /^branch: not a git branch name: must not contain "\.\."/],
    [{ clusters: [{ id: 'a' }], branch: 'main.lock' }, /^branch: not a git branch name: .*\.lock/],
    [{ clusters: [{ id: 'a' }], remote: { url: 'https://x', branch: '-f' } }, /^remote\.branch: not a git branch name: must not start with "-"/],
    [{ clusters: [{ id: 'a' }], api: { anonymousReads: 1 } }, /^api\.anonymousReads: must be true or false/],
    [{ clusters: [{ id: 'a' }], startJitterSeconds: -1 }, /^startJitterSeconds: must be a whole number from 0 to 3600/],
    [{ clusters: [{ id: 'a' }], mode: 'stream' }, /^mode: must be sync or watch \(got "stream"\)/],
    [{ clusters: [{ id: 'a' }], watch: { commitIntervalSeconds: 0 } }, /^watch\.commitIntervalSeconds: must be a whole number from 1 to 3600/],
    [{ clusters: [{ id: 'a' }], watch: { interval: 5 } }, /^watch\.interval/],
    [{ clusters: [{ id: 'a' }], startJitterSeconds: '30s' }, /^startJitterSeconds: must be a whole number/],
    [{ clusters: [{ id: 'a' }], remote: { url: 'https://x', pushAttempts: 0 } }, /^remote\.pushAttempts: must be a whole number from 1 to 100/],
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

describe('branch names are checked as git checks them', () => {
  // Each name is also given to the real git: `git check-ref-format refs/heads/<name>`; like `git branch`, "-x" and HEAD are
  // refused too, and so is "@" (it means HEAD in revision syntax; check-ref-format refuses a whole ref named "@").
  const names = ['main', 'release/1.2', 'feature/x-y_z', 'a.b', 'ünïcode', 'x@y', '@', 'HEAD', '-x', '/x', 'x/', 'x//y', 'x..y', '.x', 'x/.y',
    'x.', 'x.lock', 'x.lock/y', 'a b', 'a~1', 'a^', 'a:b', 'a?', 'a*', 'a[b', 'a\\b', 'a@{1}', 'a\x7f', 'a\tb', '', '../../etc/passwd', 'refs/heads/x'];
  const gitAccepts = (name: string) => {
    if (name === '' || name.startsWith('-') || name === 'HEAD' || name === '@') return false;
    try {
      execFileSync('git', ['check-ref-format', `refs/heads/${name}`], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  };
  it.each(names)('%j', (name) => {
    expect(branchNameProblem(name) === undefined).toBe(gitAccepts(name));
  });
});

describe('flags go through the same validation as the file, and errors name the flag', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kt-config-'));
  const file = join(dir, 'k.yaml');
  writeFileSync(file, 'clusters: [{id: a}]\nremote: {url: "https://git.example.com/r.git", tokenEnv: MY_TOKEN}\n');
  const error = (flags: Parameters<typeof loadConfig>[0]) => {
    try {
      loadConfig({ config: file, ...flags }, {});
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      return (e as Error).message;
    }
    throw new Error('expected a ConfigError');
  };
  it.each([
    [{ remote: 'http://127.0.0.1:9/r.git' }, /^--remote: http:\/\/ sends the git token in clear.*--allow-insecure-http/],
    [{ remote: 'ftp://x' }, /^--remote: must be an http\(s\) URL/],
    [{ branch: 'a..b' }, /^--branch: not a git branch name/],
    [{ schedule: 'every minute' }, /^--schedule: invalid cron expression/],
  ])('%j', (flags, message) => {
    expect(error(flags)).toMatch(message);
  });
  it('--remote replaces the url and keeps the file\'s other remote settings; --allow-insecure-http allows http', () => {
    const c = loadConfig({ config: file, remote: 'http://127.0.0.1:9/r.git', branch: 'release/1', allowInsecureHttp: true }, {});
    expect(c.remote).toEqual({ url: 'http://127.0.0.1:9/r.git', branch: 'release/1', tokenEnv: 'MY_TOKEN', username: 'x-access-token', allowInsecureHttp: true, pushAttempts: 20 });
  });
  it('--branch without any remote is an error naming --branch', () => {
    expect(() => loadConfig({ clusterId: 'a', branch: 'x' }, {})).toThrow(/^--branch: names a remote branch/);
  });
});
