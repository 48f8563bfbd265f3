// Which forge a remote URL is on, and its API and compare URLs.
import { describe, expect, it } from 'vitest';
import { compareUrl, locateForge } from '../../src/forge/settings.ts';

describe('locateForge', () => {
  it('github.com → api.github.com', () => {
    expect(locateForge('https://github.com/acme/history.git')).toEqual({ forge: 'github', apiUrl: 'https://api.github.com', webUrl: 'https://github.com', owner: 'acme', repo: 'history' });
  });
  it('GitHub Enterprise → /api/v3 unless apiUrl is given', () => {
    expect(locateForge('https://ghe.example.com/acme/history', { forge: 'github' }).apiUrl).toBe('https://ghe.example.com/api/v3');
    expect(locateForge('https://ghe.example.com/acme/history', { forge: 'github', apiUrl: 'https://api.ghe.example.com/' }).apiUrl).toBe('https://api.ghe.example.com');
  });
  it('Gitea, also under a sub-path → <web>/api/v1', () => {
    expect(locateForge('http://127.0.0.1:3000/kubetrail-admin/cluster-history.git', { forge: 'gitea' }))
      .toEqual({ forge: 'gitea', apiUrl: 'http://127.0.0.1:3000/api/v1', webUrl: 'http://127.0.0.1:3000', owner: 'kubetrail-admin', repo: 'cluster-history' });
    expect(locateForge('https://example.com/git/acme/history.git', { forge: 'gitea' }).apiUrl).toBe('https://example.com/git/api/v1');
  });
  it('an unknown host without forge, or a URL without owner/repo, is refused naming the field', () => {
    expect(() => locateForge('https://git.example.com/acme/history')).toThrow(/remote.pullRequest.forge/);
    expect(() => locateForge('https://github.com/acme')).toThrow(/remote.url: expected/);
  });
  it('compare link', () => {
    expect(compareUrl(locateForge('https://github.com/acme/history.git'), 'main', 'kubetrail/prod-us'))
      .toBe('https://github.com/acme/history/compare/main...kubetrail/prod-us');
  });
});
