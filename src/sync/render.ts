// How a sync turns an object as read into the bytes of its file: the type's noise and redaction rules, Secret
// values digested (or sealed with SOPS), normalized, serialized. Drift (read-live.ts) renders with the very same.
import { createHash } from 'node:crypto';
import type { ClusterConfig, Config } from '../config/types.ts';
import type { KubeObject } from '../model/kube-object.ts';
import { pathInCluster } from '../model/object-path.ts';
import type { ResourceType } from '../model/resource-type.ts';
import { compileTypePattern, matchesAny } from '../model/type-name.ts';
import { renderSopsSecret } from '../secrets/sops.ts';
import { NoisePolicy, type TypeNoise } from '../snapshot/noise.ts';
import { normalize } from '../snapshot/normalize.ts';
import { isSecret, redactSecret } from '../snapshot/redact.ts';
import { hmacRedactor } from '../snapshot/redact-value.ts';
import { toYaml } from '../snapshot/serialize.ts';

/** An object as it is recorded: its type's rules applied (`noise`, NoisePolicy.forType), redacted, normalized; not yet serialized. */
export function recordedObject(obj: KubeObject, opts: { keepStatus: boolean; hmacKey?: string; noise?: TypeNoise }): KubeObject {
  let out = opts.noise ? opts.noise.apply(obj) : obj;
  if (isSecret(obj) && opts.hmacKey !== undefined) out = redactSecret(out, opts.hmacKey);
  return normalize(out, { keepStatus: opts.keepStatus });
}

/** Serializes an object exactly as it is stored. */
export function renderObject(obj: KubeObject, opts: { keepStatus: boolean; hmacKey?: string; noise?: TypeNoise }): Buffer {
  return Buffer.from(toYaml(recordedObject(obj, opts)));
}

/** An object's file: its bytes and what they hold. */
export interface Rendered { bytes: Buffer; recorded: unknown }

/**
 * The renderer of one cluster's objects. `previousFile` reads what the last sync recorded at a path: a Secret in
 * sops mode keeps its sealing when its values are unchanged (so an unchanged Secret keeps its bytes).
 */
export function typeRenderer(config: Config, cluster: ClusterConfig, previousFile?: (path: string) => Promise<Uint8Array | undefined>) {
  const settings = cluster.discovery;
  const hmacKey = config.secrets.unsafeStorePlaintextSecrets ? undefined : config.secrets.hmacKey ?? '';
  // redactFields use the HMAC key whenever one is set, even with plaintext Secrets (they are rules of their own).
  const noise = new NoisePolicy(settings, hmacRedactor(config.secrets.hmacKey));
  const sops = config.secrets.mode === 'sops';
  const keepStatus = settings.keepStatus.map(compileTypePattern);
  const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
  return {
    /** The settings a rendered blob depends on: a render cache (or remote state) made with others is not used. */
    fingerprint: {
      keepStatus: settings.keepStatus, hmac: hmacKey === undefined ? 'plain' : sha256(hmacKey),
      noise: { ...noise.rules, redactKey: config.secrets.hmacKey ? sha256(config.secrets.hmacKey) : 'none' },
      // Only in sops mode, so hmac mode's fingerprint (and cache) stays what it was: a recipient change re-renders.
      ...(sops ? { sops: config.secrets.ageRecipients } : {}),
    },
    forType(type: ResourceType) {
      const keep = matchesAny(keepStatus, type) !== undefined;
      const typeNoise = noise.forType(type);
      const seal = async (obj: KubeObject): Promise<Rendered> => ({
        recorded: obj,
        bytes: await renderSopsSecret(typeNoise.apply(obj), {
          keepStatus: keep, recipients: config.secrets.ageRecipients, digestKey: hmacKey ?? '', now: new Date(),
          previous: await previousFile?.(pathInCluster(type.name, obj.metadata?.namespace, obj.metadata?.name ?? '')),
        }),
      });
      return {
        /** Objects the rules leave out, decided from metadata before anything is read in full. */
        ignoresObject: typeNoise.ignoresObject,
        /** Sealing a Secret with age is asynchronous; every other object renders at once. */
        render(obj: KubeObject): Rendered | Promise<Rendered> {
          obj.apiVersion ??= type.group ? `${type.group}/${type.version}` : type.version;
          obj.kind ??= type.kind;
          if (sops && isSecret(obj)) return seal(obj);
          const recorded = recordedObject(obj, { keepStatus: keep, hmacKey, noise: typeNoise });
          return { recorded, bytes: Buffer.from(toYaml(recorded)) };
        },
      };
    },
  };
}
