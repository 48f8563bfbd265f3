// Pure: the noise and redaction rules of one cluster (built-in sets switched on, plus the user's), compiled once
// and then asked per type and per object: is the object recorded at all, and what of it is removed or redacted.
import type { DiscoverySettings, FieldRule, ObjectRule } from '../config/types.ts';
import type { KubeObject } from '../model/kube-object.ts';
import { compileTypePattern, type TypeName, type TypePattern } from '../model/type-name.ts';
import { globMatcher, parseFieldPath, REMOVE, updateAt, type FieldPath } from './field-path.ts';
import { parseLabelSelector, type LabelSelector } from './label-selector.ts';
import { DEFAULT_IGNORE_FIELDS, DEFAULT_IGNORE_OBJECTS, DEFAULT_REDACT_FIELDS } from './noise-defaults.ts';
import { isSecret, LAST_APPLIED } from './redact.ts';
import type { ValueRedactor } from './redact-value.ts';

export type NoiseSettings = Pick<DiscoverySettings,
  'ignoreObjects' | 'ignoreFields' | 'redactFields' | 'defaultIgnoreObjects' | 'defaultIgnoreFields' | 'defaultRedactFields' | 'keepLastApplied'>;

/** The rules in force, as data: built-in sets that are on, then the user's. Part of the render cache's fingerprint. */
export interface EffectiveRules {
  ignoreObjects: ObjectRule[];
  ignoreFields: FieldRule[];
  redactFields: FieldRule[];
  keepLastApplied: boolean;
}

export function effectiveRules(s: NoiseSettings): EffectiveRules {
  const on = <K extends string, R>(sets: Record<K, R[]>, switches: Record<K, boolean>) =>
    (Object.keys(sets) as K[]).filter((k) => switches[k]).flatMap((k) => sets[k]);
  return {
    ignoreObjects: [...on(DEFAULT_IGNORE_OBJECTS, s.defaultIgnoreObjects), ...s.ignoreObjects],
    ignoreFields: [...on(DEFAULT_IGNORE_FIELDS, s.defaultIgnoreFields), ...s.ignoreFields],
    redactFields: [...on(DEFAULT_REDACT_FIELDS, s.defaultRedactFields), ...s.redactFields],
    keepLastApplied: s.keepLastApplied,
  };
}

interface ObjectMatcher {
  type: TypePattern;
  namespace?: (s: string) => boolean;
  name?: (s: string) => boolean;
  labels?: LabelSelector;
}

type Metadata = NonNullable<KubeObject['metadata']>;

/** Which rule field is wrong is for the caller to say (config/noise-rules.ts): this throws the plain problem. */
export function compileObjectRule(rule: ObjectRule): ObjectMatcher {
  return {
    type: compileTypePattern(rule.type),
    namespace: rule.namespace === undefined ? undefined : globMatcher(rule.namespace),
    name: rule.name === undefined ? undefined : globMatcher(rule.name),
    labels: rule.labelSelector === undefined ? undefined : parseLabelSelector(rule.labelSelector),
  };
}

function matchesObject(m: ObjectMatcher, meta: Metadata | undefined): boolean {
  if (m.namespace && !(typeof meta?.namespace === 'string' && m.namespace(meta.namespace))) return false;
  if (m.name && !(typeof meta?.name === 'string' && m.name(meta.name))) return false;
  return !m.labels || m.labels.matches(meta?.labels as Record<string, unknown> | undefined);
}

interface CompiledFieldRule extends ObjectMatcher { paths: FieldPath[] }

const compileFieldRule = (rule: FieldRule): CompiledFieldRule => ({ ...compileObjectRule(rule), paths: rule.paths.map(parseFieldPath) });

const LAST_APPLIED_PATH = parseFieldPath(`metadata.annotations[${JSON.stringify(LAST_APPLIED)}]`);

/** The rules that can apply to objects of one type. */
export interface TypeNoise {
  /** True when the object is not recorded at all (decided from metadata, which a metadata-only list has). */
  ignoresObject(meta: Metadata | undefined): boolean;
  /** The object with ignored fields removed and redacted fields replaced; the same object when no rule applied. */
  apply(obj: KubeObject): KubeObject;
}

export class NoisePolicy {
  readonly rules: EffectiveRules;
  private readonly ignoreObjects: ObjectMatcher[];
  private readonly ignoreFields: CompiledFieldRule[];
  private readonly redactFields: CompiledFieldRule[];
  private readonly redact: ValueRedactor;
  private readonly byType = new Map<string, TypeNoise>();

  constructor(settings: NoiseSettings, redact: ValueRedactor) {
    this.rules = effectiveRules(settings);
    this.ignoreObjects = this.rules.ignoreObjects.map(compileObjectRule);
    this.ignoreFields = this.rules.ignoreFields.map(compileFieldRule);
    this.redactFields = this.rules.redactFields.map(compileFieldRule);
    this.redact = redact;
  }

  forType(type: TypeName): TypeNoise {
    const id = `${type.group}/${type.version}/${type.kind}`;
    let noise = this.byType.get(id);
    if (!noise) this.byType.set(id, noise = this.compileForType(type));
    return noise;
  }

  private compileForType(type: TypeName): TypeNoise {
    const ofType = <T extends ObjectMatcher>(rules: T[]) => rules.filter((r) => r.type.matches(type));
    const objects = ofType(this.ignoreObjects);
    const ignore = ofType(this.ignoreFields);
    const redactRules = ofType(this.redactFields);
    const { keepLastApplied } = this.rules;
    const redact = this.redact;
    return {
      ignoresObject: (meta) => objects.some((m) => matchesObject(m, meta)),
      apply(obj) {
        const meta = obj.metadata;
        const secret = isSecret(obj);
        let out: unknown = obj;
        for (const rule of ignore) if (matchesObject(rule, meta)) for (const p of rule.paths) out = updateAt(out, p, () => REMOVE);
        // On Secrets the annotation is HMAC'd with their values (redact.ts): it stays, as it always did.
        if (!keepLastApplied && !secret) out = updateAt(out, LAST_APPLIED_PATH, () => REMOVE);
        const redacting = redactRules.filter((r) => matchesObject(r, meta));
        for (const rule of redacting) for (const p of rule.paths) out = updateAt(out, p, (v) => redact(v, p.source));
        // A kept annotation repeats every redacted value as JSON: the same rules apply to the object inside it.
        if (keepLastApplied && !secret && redacting.length > 0) {
          out = updateAt(out, LAST_APPLIED_PATH, (text) => redactInJson(text, redacting, redact));
        }
        return out === obj ? obj : withoutEmptyAnnotations(out as KubeObject);
      },
    };
  }
}

function redactInJson(text: unknown, rules: CompiledFieldRule[], redact: ValueRedactor): unknown {
  let parsed: unknown;
  try {
    parsed = JSON.parse(String(text));
  } catch {
    return redact(text, LAST_APPLIED_PATH.source); // unreadable: nothing of it is kept
  }
  let out = parsed;
  for (const rule of rules) for (const p of rule.paths) out = updateAt(out, p, (v) => redact(v, p.source));
  return out === parsed ? text : `${JSON.stringify(out)}\n`;
}

// An annotation map emptied by the rules (often: only last-applied was there) is left out, as the API would.
function withoutEmptyAnnotations(obj: KubeObject): KubeObject {
  const annotations = obj.metadata?.annotations;
  if (annotations === null || typeof annotations !== 'object' || Object.keys(annotations).length > 0) return obj;
  const metadata = { ...obj.metadata };
  delete metadata.annotations;
  return { ...obj, metadata };
}
