// Pure: the one place a field value picked by a `redactFields` rule is turned into what is stored, so another
// way of protecting values (e.g. encryption) replaces this function and nothing else.
import { createHmac } from 'node:crypto';

/** What a redacted value becomes. `path` is the rule's field path, for redactors that need to know where. */
export type ValueRedactor = (value: unknown, path: string) => unknown;

/** Used when no HMAC key is set: an unkeyed digest of a short password could be guessed, so nothing is kept. */
export const REDACTED_WITHOUT_KEY = 'redacted (set KUBETRAIL_HMAC_KEY to see changes)';

// Keys sorted at every level: the same map gives the same digest whatever order the server sent it in.
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * `hmac-sha256:<hex>` with the Secrets' key, as Secret values are stored (a string is digested as its text, so
 * an env value and a Secret holding the same password agree); without a key, a fixed marker.
 */
export function hmacRedactor(key: string | undefined): ValueRedactor {
  if (key === undefined || key === '') return () => REDACTED_WITHOUT_KEY;
  return (value) => `hmac-sha256:${createHmac('sha256', key).update(typeof value === 'string' ? value : canonicalJson(value)).digest('hex')}`;
}
