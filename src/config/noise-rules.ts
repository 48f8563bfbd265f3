// Validates the noise and redaction rules of a cluster (or of `defaults`): every type pattern, glob, label selector
// and field path is compiled here, so a bad one stops the run before it starts, named by its field.
import { parseFieldPath } from '../snapshot/field-path.ts';
import { compileObjectRule } from '../snapshot/noise.ts';
import { ConfigError } from './errors.ts';
import type { DiscoverySettings, FieldRule, ObjectRule } from './types.ts';

type Raw = Record<string, unknown>;
type NoiseKeys = 'ignoreObjects' | 'ignoreFields' | 'redactFields' | 'defaultIgnoreObjects' | 'defaultIgnoreFields' | 'defaultRedactFields' | 'keepLastApplied';

export const NOISE_KEYS: NoiseKeys[] = ['ignoreObjects', 'ignoreFields', 'redactFields', 'defaultIgnoreObjects', 'defaultIgnoreFields', 'defaultRedactFields', 'keepLastApplied'];

const at = (path: string, key: string | number) => (typeof key === 'number' ? `${path}[${key}]` : path ? `${path}.${key}` : key);
const isMap = (v: unknown): v is Raw => v !== null && typeof v === 'object' && !Array.isArray(v);

function objectRule(value: unknown, path: string, withPaths: boolean): ObjectRule | FieldRule {
  const allowed = ['type', 'namespace', 'name', 'labelSelector', ...(withPaths ? ['paths'] : [])];
  if (!isMap(value)) throw new ConfigError(path, `must be a map with ${allowed.join(', ')}`);
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) throw new ConfigError(at(path, key), `unknown key (allowed: ${allowed.join(', ')})`);
  }
  const text = (key: string): string | undefined => {
    const v = value[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string') throw new ConfigError(at(path, key), 'must be a string');
    return v;
  };
  const rule: FieldRule = { type: text('type') ?? '*', paths: [] };
  for (const key of ['namespace', 'name', 'labelSelector'] as const) {
    const v = text(key);
    if (v !== undefined) rule[key] = v;
  }
  // Each part alone, so the error names the field that is wrong.
  for (const key of ['type', 'labelSelector'] as const) {
    try {
      compileObjectRule({ type: key === 'type' ? rule.type : '*', labelSelector: key === 'labelSelector' ? rule.labelSelector : undefined });
    } catch (e) {
      throw new ConfigError(at(path, key), (e as Error).message);
    }
  }
  if (!withPaths) {
    if (rule.namespace === undefined && rule.name === undefined && rule.labelSelector === undefined) {
      throw new ConfigError(path, 'needs namespace, name or labelSelector (to leave out a whole type, use ignore)');
    }
    const { paths: _, ...objectOnly } = rule;
    return objectOnly;
  }
  const paths = value.paths;
  if (!Array.isArray(paths) || paths.length === 0) throw new ConfigError(at(path, 'paths'), 'must be a non-empty list of field paths');
  rule.paths = paths.map((p, i) => {
    if (typeof p !== 'string') throw new ConfigError(at(at(path, 'paths'), i), 'must be a string');
    try {
      parseFieldPath(p);
    } catch (e) {
      throw new ConfigError(at(at(path, 'paths'), i), (e as Error).message);
    }
    return p;
  });
  return rule;
}

function rules<T>(o: Raw, key: string, path: string, withPaths: boolean): T[] | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) throw new ConfigError(at(path, key), 'must be a list of rules');
  return v.map((r, i) => objectRule(r, at(at(path, key), i), withPaths) as T);
}

function switches<T extends object>(o: Raw, key: string, path: string, base: T): T {
  const v = o[key];
  if (v === undefined || v === null) return base;
  const p = at(path, key);
  if (!isMap(v)) throw new ConfigError(p, `must be a map of ${Object.keys(base).join(', ')} to true or false`);
  const out = { ...base } as Record<string, boolean>;
  for (const [k, b] of Object.entries(v)) {
    if (!(k in base)) throw new ConfigError(at(p, k), `unknown default (known: ${Object.keys(base).join(', ')})`);
    if (typeof b !== 'boolean') throw new ConfigError(at(p, k), 'must be true or false');
    out[k] = b;
  }
  return out as T;
}

/** The noise settings of one `clusters[i]` (or `defaults`) entry, each unset key taken from `base`. */
export function validateNoise(o: Raw, path: string, base: DiscoverySettings): Pick<DiscoverySettings, NoiseKeys> {
  const keep = o.keepLastApplied;
  if (keep !== undefined && keep !== null && typeof keep !== 'boolean') throw new ConfigError(at(path, 'keepLastApplied'), 'must be true or false');
  return {
    ignoreObjects: rules<ObjectRule>(o, 'ignoreObjects', path, false) ?? base.ignoreObjects,
    ignoreFields: rules<FieldRule>(o, 'ignoreFields', path, true) ?? base.ignoreFields,
    redactFields: rules<FieldRule>(o, 'redactFields', path, true) ?? base.redactFields,
    defaultIgnoreObjects: switches(o, 'defaultIgnoreObjects', path, base.defaultIgnoreObjects),
    defaultIgnoreFields: switches(o, 'defaultIgnoreFields', path, base.defaultIgnoreFields),
    defaultRedactFields: switches(o, 'defaultRedactFields', path, base.defaultRedactFields),
    keepLastApplied: (keep as boolean | undefined | null) ?? base.keepLastApplied,
  };
}
