// The browser's proof of the read token: a cookie that is an expiring HMAC keyed by the token, never the token itself.
// A stolen cookie is no bearer token for /api, dies at its expiry, and dies at once when the token is rotated.
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SESSION_COOKIE = 'kubetrail_ui';
/** A working day: long enough not to nag, short enough that a forgotten browser stops reading by the next one. */
export const SESSION_SECONDS = 12 * 3600;

const mac = (token: string, expires: number) => createHmac('sha256', token).update(`kubetrail-ui-session:${expires}`).digest('base64url');

/** The cookie value for a browser that presented `token`, valid until `expires` (Unix seconds). */
export function sessionValue(token: string, expires: number): string {
  return `v1.${expires}.${mac(token, expires)}`;
}

/** Whether `value` was made by sessionValue for one of `tokens` and has not expired at `now` (Unix seconds). */
export function validSession(value: string | undefined, tokens: readonly string[], now: number): boolean {
  const m = value?.match(/^v1\.(\d{1,12})\.([A-Za-z0-9_-]{43})$/);
  if (!m || Number(m[1]) <= now) return false;
  const given = Buffer.from(m[2]);
  // Every token is compared, whichever matches: the time taken says nothing about which one did.
  let ok = false;
  for (const t of tokens) ok = timingSafeEqual(given, Buffer.from(mac(t, Number(m[1])))) || ok;
  return ok;
}

/** Whether `given` is one of `tokens`, in constant time for equal lengths. */
export function isToken(given: string, tokens: readonly string[]): boolean {
  const a = Buffer.from(given);
  let ok = false;
  for (const t of tokens) {
    const b = Buffer.from(t);
    ok = (a.length === b.length && timingSafeEqual(a, b)) || ok;
  }
  return ok;
}
