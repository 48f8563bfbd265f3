// The `secrets` section: how Secret values are kept out of git (hmac: keyed digests; sops: encrypted for age
// recipients, restorable by whoever holds one of their keys), and the keys each way needs.
import { ageRecipientProblem } from '../secrets/age.ts';
import { ConfigError } from './errors.ts';
import type { SecretsConfig } from './types.ts';

type Raw = Record<string, unknown>;

const KEYS = ['mode', 'ageRecipients', 'hmacKeyEnv', 'unsafeStorePlaintextSecrets'];

/**
 * `wantsSecrets` names the first cluster field that includes Secrets (undefined when none does): only then is a
 * key required. Both modes need the HMAC key: sops mode derives each value's IV from it (see secrets/sops.ts).
 */
export function validateSecrets(raw: unknown, env: Record<string, string | undefined>, wantsSecrets: string | undefined): SecretsConfig {
  if (raw !== undefined && (raw === null || typeof raw !== 'object' || Array.isArray(raw))) throw new ConfigError('secrets', 'must be a map');
  const o = (raw ?? {}) as Raw;
  for (const key of Object.keys(o)) if (!KEYS.includes(key)) throw new ConfigError(`secrets.${key}`, `unknown key (allowed: ${KEYS.join(', ')})`);
  const text = (key: string) => {
    if (o[key] !== undefined && typeof o[key] !== 'string') throw new ConfigError(`secrets.${key}`, 'must be a string');
    return o[key] as string | undefined;
  };
  const mode = text('mode') ?? 'hmac';
  if (mode !== 'hmac' && mode !== 'sops') throw new ConfigError('secrets.mode', `must be hmac or sops (got "${mode}")`);
  const plaintextRaw = o.unsafeStorePlaintextSecrets;
  if (plaintextRaw !== undefined && typeof plaintextRaw !== 'boolean') throw new ConfigError('secrets.unsafeStorePlaintextSecrets', 'must be true or false');
  const plaintext = plaintextRaw ?? false;
  const recipientsRaw = o.ageRecipients ?? [];
  if (!Array.isArray(recipientsRaw)) throw new ConfigError('secrets.ageRecipients', 'must be a list of age public keys (age1…)');
  const ageRecipients = recipientsRaw.map((r, i) => {
    const field = `secrets.ageRecipients[${i}]`;
    if (typeof r !== 'string') throw new ConfigError(field, 'must be a string, an age public key (age1…)');
    const problem = ageRecipientProblem(r.trim());
    if (problem) throw new ConfigError(field, `${problem} (got "${r}")`);
    return r.trim();
  });
  if (mode === 'sops') {
    if (ageRecipients.length === 0) throw new ConfigError('secrets.ageRecipients', 'mode sops needs at least one age public key (age-keygen -y KEYFILE prints it)');
    if (plaintext) throw new ConfigError('secrets.unsafeStorePlaintextSecrets', 'cannot be used with mode sops: choose one');
  } else if (ageRecipients.length > 0) {
    throw new ConfigError('secrets.ageRecipients', 'only used with mode: sops (set secrets.mode: sops, or remove the recipients)');
  }
  const hmacKeyEnv = text('hmacKeyEnv') ?? 'KUBETRAIL_HMAC_KEY';
  const hmacKey = env[hmacKeyEnv] || undefined;
  if (wantsSecrets !== undefined && !hmacKey && !plaintext) {
    throw new ConfigError(wantsSecrets, `secrets are included but no HMAC key is set: set the ${hmacKeyEnv} environment variable` +
      (mode === 'sops' ? ' (sops mode keys each value\'s IV with it, so an unchanged value keeps its bytes)' : ''));
  }
  return { mode, ageRecipients, hmacKeyEnv, hmacKey, unsafeStorePlaintextSecrets: plaintext };
}
