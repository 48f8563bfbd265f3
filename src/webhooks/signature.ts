// Webhook signatures. Standard Webhooks (standardwebhooks.com): `webhook-signature: v1,<base64 HMAC-SHA256 of
// "<webhook-id>.<webhook-timestamp>.<body>">`, so a receiver can reject replays by their timestamp. Written with
// node:crypto (same on Node and Deno) rather than the `standardwebhooks` package, which signs with a pure-JS SHA-256;
// the tests verify these headers with that package.
import { createHmac } from 'node:crypto';

/** The legacy header, kept for receivers written against it: HMAC over the body alone, no replay protection. */
export const LEGACY_SIGNATURE_HEADER = 'X-Kubetrail-Signature-256';

/** A `whsec_<base64>` secret is the base64 key the spec describes; any other string is used as its own bytes. */
export function webhookKey(secret: string): Buffer {
  return secret.startsWith('whsec_') ? Buffer.from(secret.slice(6), 'base64') : Buffer.from(secret, 'utf8');
}

export function standardSignature(secret: string, id: string, timestampSeconds: number, body: string): string {
  return `v1,${createHmac('sha256', webhookKey(secret)).update(`${id}.${timestampSeconds}.${body}`).digest('base64')}`;
}

export function legacySignature(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** The headers of one delivery attempt, signed at `now`. */
export function signedHeaders(secret: string | undefined, id: string, body: string, now = Date.now()): Record<string, string> {
  const timestamp = Math.floor(now / 1000);
  const headers: Record<string, string> = { 'webhook-id': id, 'webhook-timestamp': String(timestamp) };
  if (secret) {
    headers['webhook-signature'] = standardSignature(secret, id, timestamp, body);
    headers[LEGACY_SIGNATURE_HEADER] = legacySignature(secret, body);
  }
  return headers;
}
