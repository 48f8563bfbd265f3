// The SOPS format pieces kubetrail writes (secrets.mode: sops). The proof that real `sops --decrypt` reads them is
// test/e2e/cli/sops.test.ts; here: the pieces, the reuse rule (same bytes for the same values) and the config.
import { generateIdentity, identityToRecipient } from 'age-encryption';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../../src/config/validate.ts';
import { ageIdentitiesFromEnv, ageRecipientProblem } from '../../src/secrets/age.ts';
import {
  decryptValue, ENCRYPTED_REGEX, encryptedLeaves, encryptValue, lastModified, macOf, parseEncrypted,
} from '../../src/secrets/sops-format.ts';
import { decryptRecordedSecret, renderSopsSecret } from '../../src/secrets/sops.ts';

const canary = 'canary-sops-unit-5b1e';
const b64 = (s: string) => Buffer.from(s).toString('base64');
const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';
const secret = (password = canary) => ({
  apiVersion: 'v1', kind: 'Secret', type: 'Opaque',
  metadata: { name: 's', namespace: 'ns', resourceVersion: '7', labels: { app: 'x' }, annotations: { [LAST_APPLIED]: JSON.stringify({ data: { password: b64(password) } }) } },
  data: { password: b64(password), user: b64('admin'), empty: '' },
  stringData: { token: password },
});

let identity: string;
let recipient: string;
let other: string;
beforeAll(async () => {
  identity = await generateIdentity();
  recipient = await identityToRecipient(identity);
  other = await generateIdentity();
});
const opts = (now = new Date('2026-12-01T10:00:00.123Z')) => ({ recipients: [recipient], digestKey: 'hmac-key', now, keepStatus: false });

describe('SOPS values', () => {
  const key = Buffer.alloc(32, 1);
  const iv = Buffer.alloc(32, 2);

  it('encrypt to ENC[AES256_GCM,…,type:str] with a 32-byte IV, and back only with the same key and key path', () => {
    const enc = encryptValue('hello', key, 'data:password:', iv);
    expect(enc).toMatch(/^ENC\[AES256_GCM,data:[A-Za-z0-9+/=]+,iv:[A-Za-z0-9+/=]{44},tag:[A-Za-z0-9+/=]{24},type:str\]$/);
    expect(parseEncrypted(enc)!.iv).toEqual(iv);
    expect(decryptValue(enc, key, 'data:password:')).toBe('hello');
    expect(() => decryptValue(enc, key, 'data:user:')).toThrow(/cannot decrypt the value at data:user:/);
    expect(() => decryptValue(enc, Buffer.alloc(32, 9), 'data:password:')).toThrow(/wrong data key/);
  });

  it('leave an empty string as it is, as sops does', () => {
    expect(encryptValue('', key, 'data:x:', iv)).toBe('');
    expect(decryptValue('', key, 'data:x:')).toBe('');
  });

  it('records ints and bools as sops types them', () => {
    expect(decryptValue(encryptValue(42, key, 'a:', iv), key, 'a:')).toBe(42);
    expect(encryptValue(true, key, 'a:', iv)).toMatch(/type:bool\]$/);
    expect(decryptValue(encryptValue(false, key, 'a:', iv), key, 'a:')).toBe(false);
  });

  it('walks like sops: any key on the path matching the rule, document order, key path as "a:b:"', () => {
    const doc = secret();
    const leaves = encryptedLeaves(doc as never);
    expect(leaves.map((l) => l.path)).toEqual([`metadata:annotations:${LAST_APPLIED}:`, 'data:password:', 'data:user:', 'stringData:token:']);
    expect(new RegExp(ENCRYPTED_REGEX).test('metadata')).toBe(false);
  });

  it('MAC: upper-case hex SHA-512, depends on every value and their order', () => {
    expect(macOf(['a', 'b'])).toMatch(/^[0-9A-F]{128}$/);
    expect(macOf(['a', 'b'])).not.toBe(macOf(['b', 'a']));
    expect(macOf(['ab'])).toBe(macOf(['a', 'b'])); // sops hashes the bytes one after the other
  });

  it('lastmodified is RFC 3339 to the second, as Go formats it', () => {
    expect(lastModified(new Date('2026-12-01T10:00:00.123Z'))).toBe('2026-12-01T10:00:00Z');
  });
});

describe('a sealed Secret', () => {
  it('holds no value in plain text or base64, keeps keys and other fields, and opens with the age key', async () => {
    const text = (await renderSopsSecret(secret(), opts())).toString();
    expect(text).not.toContain(canary);
    expect(text).not.toContain(b64(canary));
    expect(text).not.toContain(b64('admin'));
    expect(text).toMatch(/^ {2}password: ENC\[AES256_GCM,/m);
    expect(text).toMatch(/^ {2}empty: ""$/m);
    expect(text).toContain('  labels:\n    app: x\n');
    expect(text).toMatch(/\nsops:\n {2}age:\n {4}- recipient: age1[a-z0-9]{58}\n {6}enc: \|\n {8}-----BEGIN AGE ENCRYPTED FILE-----\n/);
    expect(text).toContain('  lastmodified: "2026-12-01T10:00:00Z"\n');
    expect(text).toContain(`  encrypted_regex: ${ENCRYPTED_REGEX}\n  mac_only_encrypted: true\n  version: 3.13.3\n`);
    const opened = await decryptRecordedSecret(text, [identity]) as ReturnType<typeof secret>;
    const { resourceVersion: _, ...metadata } = secret().metadata;
    expect(opened).toEqual({ ...secret(), metadata });
  });

  it('does not open with another age key, nor when a value was altered', async () => {
    const text = (await renderSopsSecret(secret(), opts())).toString();
    await expect(decryptRecordedSecret(text, [other])).rejects.toThrow(/none of the 1 age identities opens it: it is encrypted for age1/);
    const first = /password: (ENC\[[^\n]+\])/.exec(text)![1];
    const user = /user: (ENC\[[^\n]+\])/.exec(text)![1];
    await expect(decryptRecordedSecret(text.replace(first, user), [identity])).rejects.toThrow(/cannot decrypt the value at data:password:/);
  });

  it('renders the same bytes for the same values, even at another time and with other labels', async () => {
    const first = await renderSopsSecret(secret(), opts());
    const again = await renderSopsSecret(secret(), { ...opts(new Date('2027-01-01T00:00:00Z')), previous: first });
    expect(again.equals(first)).toBe(true);
    const relabelled = { ...secret(), metadata: { ...secret().metadata, labels: { app: 'z' } } };
    const text = (await renderSopsSecret(relabelled, { ...opts(new Date('2027-01-01T00:00:00Z')), previous: first })).toString();
    expect(text).toBe(first.toString().replace('app: x', 'app: z'));
    // Without the previous file every IV is the same (keyed digest) but the data key, and so every ciphertext, is new.
    expect((await renderSopsSecret(secret(), opts())).equals(first)).toBe(false);
  });

  it('seals afresh, openable, when a value, the recipients or the digest key changed', async () => {
    const first = await renderSopsSecret(secret(), opts());
    const changed = (await renderSopsSecret(secret('new-value'), { ...opts(new Date('2027-01-01T00:00:00Z')), previous: first })).toString();
    expect(changed).toContain('lastmodified: "2027-01-01T00:00:00Z"');
    expect(((await decryptRecordedSecret(changed, [identity])) as ReturnType<typeof secret>).stringData.token).toBe('new-value');
    const otherRecipient = await identityToRecipient(other);
    const rekeyed = (await renderSopsSecret(secret(), { ...opts(), recipients: [recipient, otherRecipient], previous: first })).toString();
    expect(rekeyed).not.toBe(first.toString());
    expect(((await decryptRecordedSecret(rekeyed, [other])) as ReturnType<typeof secret>).stringData.token).toBe(canary);
    const otherDigest = await renderSopsSecret(secret(), { ...opts(), digestKey: 'another', previous: first });
    expect(otherDigest.equals(first)).toBe(false);
  });
});

describe('secrets config', () => {
  const raw = (secrets: unknown) => ({ clusters: [{ id: 'a', includeSecrets: true }], secrets });
  const env = { KUBETRAIL_HMAC_KEY: 'k' };
  const field = (secrets: unknown) => {
    try {
      validateConfig(raw(secrets), env);
    } catch (e) {
      return (e as Error).message;
    }
    return 'valid';
  };

  it('defaults to hmac mode', () => {
    expect(validateConfig(raw(undefined), env).secrets).toMatchObject({ mode: 'hmac', ageRecipients: [] });
  });

  it('takes sops mode with age recipients', () => {
    expect(validateConfig(raw({ mode: 'sops', ageRecipients: [recipient] }), env).secrets).toMatchObject({ mode: 'sops', ageRecipients: [recipient] });
  });

  it.each([
    [{ mode: 'vault' }, /^secrets\.mode: must be hmac or sops/],
    [{ mode: 'sops' }, /^secrets\.ageRecipients: mode sops needs at least one age public key/],
    [{ mode: 'sops', ageRecipients: 'age1x' }, /^secrets\.ageRecipients: must be a list/],
    [{ mode: 'sops', ageRecipients: ['AGE-SECRET-KEY-1QQQ'] }, /^secrets\.ageRecipients\[0\]: is a secret key: give its public key/],
    [{ mode: 'sops', ageRecipients: ['AGE1QQQ'] }, /^secrets\.ageRecipients\[0\]: must be lower case/],
    [{ mode: 'sops', ageRecipients: ['ssh-ed25519 AAAA'] }, /^secrets\.ageRecipients\[0\]: must be an age public key starting with "age1"/],
    [{ mode: 'sops', ageRecipients: [42] }, /^secrets\.ageRecipients\[0\]: must be a string/],
    [{ mode: 'sops', unsafeStorePlaintextSecrets: true, ageRecipients: ['RECIPIENT'] }, /^secrets\.unsafeStorePlaintextSecrets: cannot be used with mode sops/],
    [{ ageRecipients: ['RECIPIENT'] }, /^secrets\.ageRecipients: only used with mode: sops/],
    [{ mode: 'sops', ageRecipients: ['RECIPIENT'], unknown: 1 }, /^secrets\.unknown: unknown key/],
  ])('names the field: %j', (secrets, message) => {
    const withRecipient = JSON.parse(JSON.stringify(secrets).replaceAll('RECIPIENT', recipient));
    expect(field(withRecipient)).toMatch(message);
  });

  it('catches a typo in a recipient by its bech32 checksum', () => {
    const typo = recipient.slice(0, 20) + (recipient[20] === 'q' ? 'p' : 'q') + recipient.slice(21);
    expect(ageRecipientProblem(recipient)).toBeUndefined();
    expect(ageRecipientProblem(typo)).toMatch(/checksum does not match/);
    expect(field({ mode: 'sops', ageRecipients: [recipient, typo] })).toMatch(/^secrets\.ageRecipients\[1\]: checksum does not match/);
  });

  it('sops mode still needs the HMAC key when Secrets are included (it keys the IVs)', () => {
    expect(() => validateConfig(raw({ mode: 'sops', ageRecipients: [recipient] }), {}))
      .toThrow(/^clusters\[0\]\.includeSecrets: secrets are included but no HMAC key is set: set the KUBETRAIL_HMAC_KEY environment variable \(sops mode/);
  });
});

describe('age identities for decryption', () => {
  it('are read as sops reads them: SOPS_AGE_KEY and the key file age-keygen writes (comments skipped)', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'kt-age-')), 'keys.txt');
    writeFileSync(file, `# created: 2026-12-01T10:00:00Z\n# public key: ${recipient}\n${identity}\n`);
    expect(ageIdentitiesFromEnv({ SOPS_AGE_KEY_FILE: file })).toEqual([identity]);
    expect(ageIdentitiesFromEnv({ SOPS_AGE_KEY: other, SOPS_AGE_KEY_FILE: file })).toEqual([other, identity]);
    expect(ageIdentitiesFromEnv({})).toEqual([]);
  });
});
