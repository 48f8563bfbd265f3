// age at the edges of SOPS: a data key wrapped for each recipient (armored, as `sops.age[].enc`), unwrapped with
// the holder's identities, and the checks that a configured recipient is a real age X25519 public key.
import { readFileSync } from 'node:fs';

// Loaded when a key is wrapped or unwrapped: its curves and post-quantum code cost ~4 MB of heap and ~20 MB of RSS
// in every process (a watch, a daemon) that never encrypts anything.
const ageLibrary = () => import('age-encryption');

const BECH32 = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';

function bech32Polymod(values: number[]): number {
  const GEN = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];
  let chk = 1;
  for (const v of values) {
    const top = chk >>> 25;
    chk = ((chk & 0x1ffffff) << 5) ^ v;
    for (let i = 0; i < 5; i++) if ((top >>> i) & 1) chk ^= GEN[i];
  }
  return chk >>> 0;
}

/** Why `s` is not an age X25519 recipient (`age1` + bech32 of 32 bytes), or undefined when it is one. */
export function ageRecipientProblem(s: string): string | undefined {
  if (s.startsWith('AGE-SECRET-KEY-')) return 'is a secret key: give its public key here (age-keygen -y KEYFILE prints it), never the secret key';
  if (!s.toLowerCase().startsWith('age1')) return 'must be an age public key starting with "age1" (age-keygen -y prints it)';
  if (s !== s.toLowerCase()) return 'must be lower case';
  if (s.length !== 62) return `must be 62 characters long, an age X25519 public key (got ${s.length})`;
  const data = [...s.slice(4)].map((c) => BECH32.indexOf(c));
  if (data.includes(-1)) return 'has a character that bech32 does not use';
  const hrp = [...'age'].map((c) => c.charCodeAt(0));
  const expanded = [...hrp.map((c) => c >> 5), 0, ...hrp.map((c) => c & 31), ...data];
  if (bech32Polymod(expanded) !== 1) return 'checksum does not match (a typo?)';
  return undefined;
}

/** The data key wrapped for every recipient, one armored age file each, in the recipients' order. */
export async function wrapDataKey(dataKey: Uint8Array, recipients: string[]): Promise<{ recipient: string; enc: string }[]> {
  const { Encrypter, armor } = await ageLibrary();
  return Promise.all(recipients.map(async (recipient) => {
    const e = new Encrypter();
    e.addRecipient(recipient);
    return { recipient, enc: armor.encode(await e.encrypt(dataKey)) };
  }));
}

/** The data key from the first stanza one of `identities` opens; undefined when none does. */
export async function unwrapDataKey(stanzas: { enc: string }[], identities: string[]): Promise<Uint8Array | undefined> {
  const { Decrypter, armor } = await ageLibrary();
  const d = new Decrypter();
  for (const id of identities) d.addIdentity(id);
  for (const { enc } of stanzas) {
    try {
      return await d.decrypt(armor.decode(enc));
    } catch { /* not for these identities: try the next stanza */ }
  }
  return undefined;
}

/**
 * The identities SOPS itself reads: SOPS_AGE_KEY (the key text) and SOPS_AGE_KEY_FILE (a file of keys, `#`
 * comments as age-keygen writes them).
 */
export function ageIdentitiesFromEnv(env: Record<string, string | undefined>): string[] {
  const text = [env.SOPS_AGE_KEY ?? '', env.SOPS_AGE_KEY_FILE ? readFileSync(env.SOPS_AGE_KEY_FILE, 'utf8') : ''].join('\n');
  return text.split('\n').map((l) => l.trim()).filter((l) => l.startsWith('AGE-SECRET-KEY-'));
}
