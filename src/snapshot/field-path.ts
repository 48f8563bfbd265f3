// Pure: field paths that name parts of an object (`metadata.annotations["a/b"]`, `spec.containers[*].env[name="*PASSWORD*"].value`),
// parsed once and applied copy-on-write, so noise and redaction rules never change the object a caller holds.
//
// Syntax, left to right from the object's top:
//   .name  name        a map key (letters, digits, `_`, `-`, `$`; `*` and `?` glob); a path starts without the dot
//   ["key"]            a map key written as a JSON string, for keys with `.` or `/`; `*` in it globs
//   .* [*]             every value of a map or item of a list
//   [3]                the list item at that position (as `kubetrail churn` and the history diffs print them)
//   [field=GLOB]       the list items (maps) whose string `field` matches GLOB, ignoring case; `|` separates
//                      alternatives: `env[name="*PASSWORD*|*TOKEN*"]`. GLOB may be bare or a JSON string.

export type Segment =
  | { kind: 'key'; source: string; matches: (key: string) => boolean }
  | { kind: 'any' }
  | { kind: 'index'; index: number }
  | { kind: 'where'; field: string; source: string; matches: (value: string) => boolean };

export interface FieldPath { source: string; segments: Segment[] }

/** Returned by an update function: the field (map key or list item) is removed. */
export const REMOVE: unique symbol = Symbol('remove');

const NAME = /^[A-Za-z0-9_$*?-]+/;

/** `*` any run of characters, `?` one, the rest literal; `|` alternatives when asked. */
export function globMatcher(pattern: string, o: { ignoreCase?: boolean; alternatives?: boolean } = {}): (s: string) => boolean {
  const parts = o.alternatives ? pattern.split('|') : [pattern];
  const body = parts.map((p) => p.replace(/[.+^${}()|[\]\\]/g, '\\$&').replaceAll('*', '.*').replaceAll('?', '.')).join('|');
  const re = new RegExp(`^(?:${body})$`, o.ignoreCase ? 'si' : 's');
  return (s) => re.test(s);
}

const keySegment = (source: string): Segment =>
  source === '*' ? { kind: 'any' } : { kind: 'key', source, matches: /[*?]/.test(source) ? globMatcher(source) : (k) => k === source };

/** Throws an Error saying where the path is wrong. */
export function parseFieldPath(source: string): FieldPath {
  const segments: Segment[] = [];
  let i = 0;
  const fail = (what: string): never => {
    throw new Error(`invalid field path ${JSON.stringify(source)}: ${what} at character ${i + 1}`);
  };
  // A JSON string starting at i: its value, and i moved past it.
  const jsonString = (): string => {
    const m = /^"(?:[^"\\]|\\.)*"/.exec(source.slice(i));
    if (!m) return fail('expected a closing quote');
    i += m[0].length;
    try {
      return JSON.parse(m[0]) as string;
    } catch {
      return fail('not a valid JSON string');
    }
  };
  if (source === '') fail('empty path');
  while (i < source.length) {
    const ch = source[i];
    if (ch === '[') {
      i++;
      if (source[i] === '"') segments.push(keySegment(jsonString()));
      else if (source[i] === '*') (i++, segments.push({ kind: 'any' }));
      else if (/\d/.test(source[i] ?? '')) {
        const digits = /^\d+/.exec(source.slice(i))![0];
        i += digits.length;
        segments.push({ kind: 'index', index: Number(digits) });
      } else {
        const field = /^[A-Za-z_$][A-Za-z0-9_$-]*/.exec(source.slice(i))?.[0] ?? fail('expected "key", *, a number or field=GLOB');
        i += field.length;
        if (source[i] !== '=') fail(`expected "=" after ${field}`);
        i++;
        let glob: string;
        if (source[i] === '"') glob = jsonString();
        else {
          glob = /^[^\]"]*/.exec(source.slice(i))![0];
          i += glob.length;
        }
        if (glob === '') fail(`empty value for ${field}=`);
        segments.push({ kind: 'where', field, source: glob, matches: globMatcher(glob, { ignoreCase: true, alternatives: true }) });
      }
      if (source[i] !== ']') fail('expected "]"');
      i++;
    } else {
      if (segments.length > 0) {
        if (ch !== '.') fail('expected "." or "["');
        i++;
      }
      const name = NAME.exec(source.slice(i))?.[0] ?? fail('expected a field name (use ["…"] for other characters)');
      i += name.length;
      segments.push(keySegment(name));
    }
  }
  return { source, segments };
}

const isMap = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

function setOwn(obj: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true }); // `__proto__` too
}

/**
 * Applies `update` to every value the path reaches and returns the new value; parts not on the path are shared,
 * and when nothing is reached the very same value comes back (so a caller can tell nothing matched).
 */
export function updateAt(value: unknown, path: FieldPath, update: (v: unknown) => unknown): unknown {
  return walk(value, path.segments, 0, update);
}

function walk(value: unknown, segments: Segment[], at: number, update: (v: unknown) => unknown): unknown {
  if (at === segments.length) return update(value);
  const seg = segments[at];
  if (isMap(value)) {
    if (seg.kind !== 'key' && seg.kind !== 'any') return value;
    let out: Record<string, unknown> | undefined;
    for (const key of Object.keys(value)) {
      if (seg.kind === 'key' && !seg.matches(key)) continue;
      const next = walk(value[key], segments, at + 1, update);
      if (next === value[key]) continue;
      out ??= { ...value };
      if (next === REMOVE) delete out[key];
      else setOwn(out, key, next);
    }
    return out ?? value;
  }
  if (Array.isArray(value)) {
    if (seg.kind === 'key') return value;
    let out: unknown[] | undefined;
    value.forEach((item, i) => {
      const reached = seg.kind === 'any' || (seg.kind === 'index' && seg.index === i) ||
        (seg.kind === 'where' && isMap(item) && typeof item[seg.field] === 'string' && seg.matches(item[seg.field] as string));
      if (!reached) return;
      const next = walk(item, segments, at + 1, update);
      if (next === item) return;
      out ??= [...value];
      out[i] = next;
    });
    return out ? out.filter((v) => v !== REMOVE) : value;
  }
  return value;
}
