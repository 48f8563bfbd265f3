// Pure: which forge a git remote URL is on, its API and web URLs, and the repository's owner/name.
import type { ForgeKind } from './client.ts';

export interface ForgeLocation { forge: ForgeKind; apiUrl: string; webUrl: string; owner: string; repo: string }

/**
 * `https://github.com/acme/history.git` → github, https://api.github.com. Any other host needs `forge` (github for
 * GitHub Enterprise, whose API is `https://<host>/api/v3`; gitea, whose API is `<web>/api/v1`) unless `apiUrl` is given.
 */
export function locateForge(remoteUrl: string, o: { forge?: ForgeKind; apiUrl?: string } = {}): ForgeLocation {
  let url: URL;
  try { url = new URL(remoteUrl); } catch { throw new Error(`remote.url: not a URL: "${remoteUrl}"`); }
  const parts = url.pathname.replace(/\/+$/, '').replace(/\.git$/, '').split('/').filter(Boolean);
  if (parts.length < 2) throw new Error(`remote.url: expected https://<host>/<owner>/<repo>(.git), got "${url.origin}${url.pathname}"`);
  const [owner, repo] = parts.slice(-2);
  const webUrl = `${url.origin}${parts.length > 2 ? `/${parts.slice(0, -2).join('/')}` : ''}`; // Gitea under a sub-path
  const isGithubCom = url.hostname === 'github.com';
  const forge = o.forge ?? (isGithubCom ? 'github' : undefined);
  if (!forge) throw new Error(`remote.pullRequest.forge: set to github or gitea for ${url.hostname} (only github.com is recognized by name)`);
  const apiUrl = (o.apiUrl ?? (isGithubCom ? 'https://api.github.com' : forge === 'github' ? `${webUrl}/api/v3` : `${webUrl}/api/v1`)).replace(/\/+$/, '');
  return { forge, apiUrl, webUrl, owner, repo };
}

/** The forge's compare view of head against base, as linked from the PR body. */
export function compareUrl(loc: ForgeLocation, base: string, head: string): string {
  return `${loc.webUrl}/${loc.owner}/${loc.repo}/compare/${encodeURI(base)}...${encodeURI(head)}`;
}
