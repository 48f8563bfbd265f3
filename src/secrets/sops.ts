// Recoverable Secrets (secrets.mode: sops): a Secret's values encrypted in SOPS's format for age recipients, so
// `sops --decrypt` (or `openSopsSecret`) gives them back to holders of an age key and to no one else. An unchanged
// Secret keeps its bytes: each value's IV is its keyed digest, so the previous file shows which values are
// unchanged without its data key (which kubetrail never keeps), and then the previous sealing is reused whole.
import { createHmac, randomBytes } from 'node:crypto';
import { parse } from 'yaml';
import type { KubeObject } from '../model/kube-object.ts';
import { normalize } from '../snapshot/normalize.ts';
import { toYaml } from '../snapshot/serialize.ts';
import { unwrapDataKey, wrapDataKey } from './age.ts';
import {
  decryptValue, ENCRYPTED_REGEX, encryptedLeaves, encryptValue, IV_BYTES, lastModified, macOf, parseEncrypted,
  type Scalar, SOPS_VERSION, type SopsMetadata,
} from './sops-format.ts';

export interface SealOptions {
  recipients: string[];
  /** Keys each value's IV (HMAC-SHA256 of object, key path and value): the deployment's HMAC key. */
  digestKey: string;
  /** `lastmodified` of a new sealing. */
  now: Date;
}

type Doc = Record<string, unknown>;

/** IV = keyed digest of what is encrypted: equal only for the same value at the same place, unguessable without the key. */
function syntheticIv(key: string, object: string, path: string, value: Scalar): Buffer {
  return createHmac('sha256', key).update(`kubetrail sops iv\0${object}\0${path}\0${typeof value}\0${String(value)}`).digest();
}

const objectName = (doc: Doc) => {
  const m = (doc.metadata ?? {}) as { namespace?: unknown; name?: unknown };
  return `${String(m.namespace ?? '')}/${String(m.name ?? '')}`;
};

function sopsMetadata(doc: Doc | undefined): SopsMetadata | undefined {
  const s = doc?.sops as Partial<SopsMetadata> | undefined;
  if (!s || typeof s !== 'object' || !Array.isArray(s.age) || typeof s.mac !== 'string' || typeof s.lastmodified !== 'string') return undefined;
  return s as SopsMetadata;
}

/**
 * `doc` (a normalized Secret, taken over and returned) with every value SOPS's rule covers encrypted and a `sops`
 * section. When `previous` (the recorded file, parsed) was sealed for the same recipients and every value's IV
 * matches, its ciphertexts and `sops` section are reused as they are: the same bytes as last time.
 */
export async function sealDocument(doc: Doc, previous: Doc | undefined, o: SealOptions): Promise<Doc> {
  const object = objectName(doc);
  const leaves = encryptedLeaves(doc);
  const ivs = leaves.map((l) => syntheticIv(o.digestKey, object, l.path, l.value));
  const before = sopsMetadata(previous);
  if (previous && before && reusable(before, o.recipients)) {
    const old = encryptedLeaves(previous);
    const same = old.length === leaves.length && old.every((p, i) =>
      p.path === leaves[i].path && typeof p.value === 'string' && parseEncrypted(p.value)?.iv.equals(ivs[i]));
    if (same) {
      leaves.forEach((l, i) => l.set(old[i].value));
      doc.sops = orderedMetadata(before);
      return doc;
    }
  }
  const dataKey = randomBytes(32);
  const values = leaves.map((l) => l.value);
  leaves.forEach((l, i) => l.set(encryptValue(l.value, dataKey, l.path, ivs[i])));
  const lastmodified = lastModified(o.now);
  doc.sops = orderedMetadata({
    age: await wrapDataKey(dataKey, o.recipients),
    lastmodified,
    mac: encryptValue(macOf(values), dataKey, lastmodified, randomBytes(IV_BYTES)),
    encrypted_regex: ENCRYPTED_REGEX,
    mac_only_encrypted: true,
    version: SOPS_VERSION,
  });
  return doc;
}

function reusable(s: SopsMetadata, recipients: string[]): boolean {
  return s.encrypted_regex === ENCRYPTED_REGEX && s.mac_only_encrypted === true && s.age.length === recipients.length &&
    s.age.every((a, i) => a?.recipient === recipients[i] && typeof a.enc === 'string');
}

// The order SOPS writes its metadata in (stores/stores.go), whatever order a parsed file had.
function orderedMetadata(s: SopsMetadata): SopsMetadata {
  return {
    age: s.age.map((a) => ({ recipient: a.recipient, enc: a.enc })), lastmodified: s.lastmodified, mac: s.mac,
    encrypted_regex: s.encrypted_regex, mac_only_encrypted: s.mac_only_encrypted, version: s.version,
  };
}

/** A Secret as kubetrail stores it in sops mode: normalized, sealed, serialized. `previous` is its recorded file. */
export async function renderSopsSecret(
  secret: KubeObject, o: SealOptions & { keepStatus: boolean; previous?: Uint8Array },
): Promise<Buffer> {
  let previous: Doc | undefined;
  try {
    const parsed = o.previous && parse(Buffer.from(o.previous).toString('utf8'), { version: '1.2' });
    if (parsed && typeof parsed === 'object') previous = parsed as Doc;
  } catch { /* unreadable: seal afresh */ }
  const doc = normalize(secret, { keepStatus: o.keepStatus }) as Doc;
  return Buffer.from(toYaml(await sealDocument(doc, previous, o)));
}

/** True when a recorded object carries a SOPS section (written in sops mode). */
export const isSopsSealed = (obj: unknown): boolean =>
  obj !== null && typeof obj === 'object' && sopsMetadata(obj as Doc) !== undefined;

/**
 * The object with its values decrypted and the `sops` section removed, as `sops --decrypt` gives it. Checks
 * the MAC. `identities` are age secret keys (see ageIdentitiesFromEnv for SOPS_AGE_KEY_FILE). Throws an error
 * that says what to do when no identity fits or the file was altered.
 */
export async function openSopsDocument(sealed: Doc, identities: string[]): Promise<Doc> {
  const s = sopsMetadata(sealed);
  if (!s) throw new Error('not a SOPS-encrypted object (no sops section)');
  if (s.mac_only_encrypted !== true || typeof s.encrypted_regex !== 'string') {
    throw new Error('SOPS file not written by kubetrail (needs encrypted_regex and mac_only_encrypted): decrypt it with sops --decrypt');
  }
  const dataKey = await unwrapDataKey(s.age, identities);
  if (!dataKey) {
    throw new Error(`none of the ${identities.length} age identities opens it: it is encrypted for ${s.age.map((a) => a.recipient).join(', ')} ` +
      '(set SOPS_AGE_KEY_FILE to the key file of one of them)');
  }
  const doc = structuredClone(sealed);
  delete doc.sops;
  const values = encryptedLeaves(doc, new RegExp(s.encrypted_regex)).map((l) => {
    const v = decryptValue(String(l.value), dataKey, l.path);
    l.set(v);
    return v;
  });
  if (decryptValue(s.mac, dataKey, s.lastmodified) !== macOf(values)) throw new Error('MAC mismatch: the file was altered after it was encrypted');
  return doc;
}

/** A recorded Secret file (YAML bytes) decrypted; for `export --decrypt`. */
export async function decryptRecordedSecret(file: Uint8Array | string, identities: string[]): Promise<KubeObject> {
  const doc = parse(typeof file === 'string' ? file : Buffer.from(file).toString('utf8'), { version: '1.2' }) as Doc;
  return await openSopsDocument(doc, identities) as KubeObject;
}
