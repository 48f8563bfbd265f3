// Pure: the pieces of SOPS's file format that kubetrail writes and reads (getsops/sops v3: aes/cipher.go,
// sops.go, stores/stores.go). A value is `ENC[AES256_GCM,data:…,iv:…,tag:…,type:…]`: AES-256-GCM under the
// file's data key, a 32-byte IV, and the value's key path (`data:password:`) as additional data. The MAC is the
// SHA-512 of the encrypted values in document order (mac_only_encrypted), encrypted with `lastmodified` as AAD.
import { createCipheriv, createDecipheriv, createHash } from 'node:crypto';

/** Which leaves SOPS encrypts: any whose key path has a component matching this (sops.go shouldBeEncrypted). */
export const ENCRYPTED_REGEX = '^(data|stringData|kubectl\\.kubernetes\\.io/last-applied-configuration)$';
/** The SOPS release whose format this follows (mac_only_encrypted needs 3.9 or later). */
export const SOPS_VERSION = '3.13.3';
export const IV_BYTES = 32;

// sops.go MACOnlyEncryptedInitialization: a MAC over the encrypted values only never equals one over all values.
const MAC_ONLY_ENCRYPTED_INIT = Buffer.from([0x8a, 0x3f, 0xd2, 0xad, 0x54, 0xce, 0x66, 0x52, 0x7b, 0x10, 0x34, 0xf3,
  0xd1, 0x47, 0xbe, 0x0b, 0x0b, 0x97, 0x5b, 0x3b, 0xf4, 0x4f, 0x72, 0xc6, 0xfd, 0xad, 0xec, 0x81, 0x76, 0xf2, 0x7d, 0x69]);

export type Scalar = string | number | boolean;

export interface SopsMetadata {
  age: { recipient: string; enc: string }[];
  lastmodified: string;
  mac: string;
  encrypted_regex: string;
  mac_only_encrypted: true;
  version: string;
}

export interface Leaf {
  /** SOPS's additional data: the map keys down to the value, each followed by `:` (list indexes are not part). */
  path: string;
  value: Scalar;
  set: (v: Scalar) => void;
}

/**
 * The leaves SOPS encrypts, in the order its tree walk meets them (document order), empty strings left out as
 * SOPS leaves them (they stay `""` and add nothing to the MAC). `rule` is tested on every key of the path.
 */
export function encryptedLeaves(doc: Record<string, unknown>, rule = new RegExp(ENCRYPTED_REGEX)): Leaf[] {
  const out: Leaf[] = [];
  const walk = (value: unknown, path: string[], encrypted: boolean, set: (v: Scalar) => void) => {
    if (value === null || value === undefined) return;
    if (Array.isArray(value)) {
      value.forEach((v, i) => walk(v, path, encrypted, (n) => { value[i] = n; }));
    } else if (typeof value === 'object') {
      const map = value as Record<string, unknown>;
      for (const key of Object.keys(map)) walk(map[key], [...path, key], encrypted || rule.test(key), (n) => { map[key] = n; });
    } else if (encrypted && value !== '' && (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')) {
      out.push({ path: path.map((p) => `${p}:`).join(''), value, set });
    }
  };
  for (const key of Object.keys(doc)) {
    if (key !== 'sops') walk(doc[key], [key], rule.test(key), (n) => { doc[key] = n; });
  }
  return out;
}

/** The bytes SOPS hashes and encrypts for a value (sops.go ToBytes), and the type it records. */
function plainBytes(value: Scalar): { bytes: Buffer; type: string } {
  if (typeof value === 'string') return { bytes: Buffer.from(value), type: 'str' };
  if (typeof value === 'boolean') return { bytes: Buffer.from(value ? 'True' : 'False'), type: 'bool' };
  if (Number.isInteger(value)) return { bytes: Buffer.from(String(value)), type: 'int' };
  return { bytes: Buffer.from(String(value)), type: 'float' };
}

export function encryptValue(value: Scalar, dataKey: Uint8Array, aad: string, iv: Uint8Array): string {
  if (value === '') return '';
  const { bytes, type } = plainBytes(value);
  const cipher = createCipheriv('aes-256-gcm', dataKey, iv);
  cipher.setAAD(Buffer.from(aad));
  const data = Buffer.concat([cipher.update(bytes), cipher.final()]);
  const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
  return `ENC[AES256_GCM,data:${b64(data)},iv:${b64(iv)},tag:${b64(cipher.getAuthTag())},type:${type}]`;
}

const ENC = /^ENC\[AES256_GCM,data:(.+),iv:(.+),tag:(.+),type:(.+)\]/;

export function parseEncrypted(text: string): { data: Buffer; iv: Buffer; tag: Buffer; type: string } | undefined {
  const m = ENC.exec(text);
  if (!m) return undefined;
  return { data: Buffer.from(m[1], 'base64'), iv: Buffer.from(m[2], 'base64'), tag: Buffer.from(m[3], 'base64'), type: m[4] };
}

/** The value back; throws when the key, the path or the bytes are not the ones it was encrypted with. */
export function decryptValue(text: string, dataKey: Uint8Array, aad: string): Scalar {
  if (text === '') return '';
  const e = parseEncrypted(text);
  if (!e) throw new Error(`not a SOPS encrypted value at ${aad}`);
  const decipher = createDecipheriv('aes-256-gcm', dataKey, e.iv);
  decipher.setAAD(Buffer.from(aad));
  decipher.setAuthTag(e.tag);
  let plain: string;
  try {
    plain = Buffer.concat([decipher.update(e.data), decipher.final()]).toString();
  } catch {
    throw new Error(`cannot decrypt the value at ${aad}: wrong data key or altered file`);
  }
  switch (e.type) {
    case 'str': return plain;
    case 'int': case 'float': return Number(plain);
    case 'bool': return plain.toLowerCase() === 'true' || plain === '1' || plain === 't';
    default: throw new Error(`unsupported SOPS value type "${e.type}" at ${aad}`);
  }
}

/** The file's MAC before encryption: upper-case hex SHA-512 over the (plain) encrypted values in order. */
export function macOf(values: Scalar[]): string {
  const h = createHash('sha512').update(MAC_ONLY_ENCRYPTED_INIT);
  for (const v of values) h.update(plainBytes(v).bytes);
  return h.digest('hex').toUpperCase();
}

/** RFC 3339 in UTC to the second, as Go's time.RFC3339 writes it: the MAC's additional data must match byte for byte. */
export const lastModified = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');
