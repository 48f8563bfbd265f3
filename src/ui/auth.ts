// Who may see the pages: the read access of the API (access.ts), presented by a browser as a session cookie got
// by posting the read token to /ui/login once. The cookie is scoped to /ui and only the UI routes accept it: /api
// stays bearer-only, so a cookie can never make a cross-site request to the API count as authenticated.
import type { Context, MiddlewareHandler } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import type { ApiAccess } from '../api/access.ts';
import { isToken, sessionValue, SESSION_COOKIE, SESSION_SECONDS, validSession } from './session.ts';

export type UiEnv = { Variables: { signedIn: boolean } };

const now = () => Math.floor(Date.now() / 1000);

/** Whether the request may read, and whether through a session (so the page offers to sign out). */
export function readAccess(c: Context, access: ApiAccess): 'anonymous' | 'session' | 'bearer' | 'refused' | 'disabled' {
  if (access.anonymousReads) return 'anonymous';
  if (!access.readTokens.length) return 'disabled';
  if (validSession(getCookie(c, SESSION_COOKIE), access.readTokens, now())) return 'session';
  const bearer = c.req.header('authorization')?.match(/^Bearer ([A-Za-z0-9._~+/-]+=*)$/)?.[1];
  return bearer && isToken(bearer, access.readTokens) ? 'bearer' : 'refused';
}

/** A local path to go back to after signing in; anything else (`//evil.example`, a full URL) goes to the overview. */
export function safeNext(next: unknown): string {
  return typeof next === 'string' && /^\/ui(\/|$)/.test(next) && !/[\\\s]/.test(next) ? next : '/ui/';
}

export function startSession(c: Context, token: string): void {
  setCookie(c, SESSION_COOKIE, sessionValue(token, now() + SESSION_SECONDS), {
    path: '/ui', httpOnly: true, sameSite: 'Strict', maxAge: SESSION_SECONDS, secure: new URL(c.req.url).protocol === 'https:',
  });
}

export const endSession = (c: Context) => deleteCookie(c, SESSION_COOKIE, { path: '/ui' });

/** A form POST from another site (a login CSRF) is refused; browsers send Origin on every POST. A proxy may rename the host. */
export function sameOrigin(c: Context): boolean {
  const origin = c.req.header('origin');
  if (!origin) return true;
  let host: string;
  try { host = new URL(origin).host; } catch { return false; }
  return host === c.req.header('host') || host === c.req.header('x-forwarded-host');
}

/** Headers of every UI response: no script may run, nothing is framed or cached, no URL leaks to another site in a Referer. */
export const securityHeaders: MiddlewareHandler = async (c, next) => {
  await next();
  c.header('Content-Security-Policy', "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'");
  c.header('X-Content-Type-Options', 'nosniff');
  c.header('Referrer-Policy', 'same-origin'); // no-referrer would make a form's Origin "null"
  c.header('Cache-Control', 'no-store');
};
