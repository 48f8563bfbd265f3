// Pure: Secret values become keyed digests, so a changed value shows as a changed line and the value never reaches git.
import { createHmac } from 'node:crypto';
import type { KubeObject } from '../model/kube-object.ts';

export const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

const digest = (key: string, value: Buffer | string) => `hmac-sha256:${createHmac('sha256', key).update(value).digest('hex')}`;

function redactValues(values: unknown, key: string, decode: boolean): unknown {
  if (values === null || typeof values !== 'object') return values;
  // `data` is base64: digest the decoded bytes so `data` and `stringData` of the same value agree. fromEntries
  // keeps a key named __proto__, which an assignment would not.
  return Object.fromEntries(Object.entries(values as Record<string, unknown>)
    .map(([k, v]) => [k, digest(key, decode ? Buffer.from(String(v), 'base64') : String(v))]));
}

export function isSecret(obj: KubeObject): boolean {
  return obj.kind === 'Secret' && (obj.apiVersion === 'v1' || obj.apiVersion === undefined);
}

/** Replaces every value of a Secret's `data`/`stringData` and its last-applied annotation with an HMAC. */
export function redactSecret(secret: KubeObject, key: string): KubeObject {
  const out: KubeObject = { ...secret };
  if (out.data !== undefined) out.data = redactValues(out.data, key, true);
  if (out.stringData !== undefined) out.stringData = redactValues(out.stringData, key, false);
  const annotations = secret.metadata?.annotations as Record<string, string> | undefined;
  if (annotations?.[LAST_APPLIED] !== undefined) {
    out.metadata = { ...secret.metadata, annotations: { ...annotations, [LAST_APPLIED]: digest(key, annotations[LAST_APPLIED]) } };
  }
  return out;
}
