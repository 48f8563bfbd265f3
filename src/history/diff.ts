// Pure: field-level differences between two versions of an object.
//   { added: [{path, value}], removed: [{path, value}], updated: [{path, from, to}] }
// Paths look like `spec.template.spec.containers[0].image` and `metadata.labels["app.kubernetes.io/name"]`.
// Lists whose items all have a `name` are matched by name (reordering is not a change); others by position.

export interface ObjectDiff {
  added: { path: string; value: unknown }[];
  removed: { path: string; value: unknown }[];
  updated: { path: string; from: unknown; to: unknown }[];
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$-]*$/;

const keyPath = (base: string, key: string) =>
  IDENTIFIER.test(key) ? (base ? `${base}.${key}` : key) : `${base}[${JSON.stringify(key)}]`;

const isMap = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

const named = (list: unknown[]) => list.length > 0 && list.every((i) => isMap(i) && typeof i.name === 'string');

/** `undefined` stands for "no object": a created object shows as its top-level fields added. */
export function diffObjects(from: unknown, to: unknown): ObjectDiff {
  const diff: ObjectDiff = { added: [], removed: [], updated: [] };
  walk(from ?? {}, to ?? {}, '', diff);
  return diff;
}

function walk(a: unknown, b: unknown, path: string, diff: ObjectDiff): void {
  if (isMap(a) && isMap(b)) {
    for (const key of Object.keys(a)) {
      if (!Object.hasOwn(b, key)) diff.removed.push({ path: keyPath(path, key), value: a[key] });
      else walk(a[key], b[key], keyPath(path, key), diff);
    }
    // Own keys only: `key in b` also sees `constructor`, `toString`, … of Object.prototype, so a data key of
    // that name was never reported as added or removed.
    for (const key of Object.keys(b)) if (!Object.hasOwn(a, key)) diff.added.push({ path: keyPath(path, key), value: b[key] });
    return;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    if (named(a) && named(b)) return walkNamed(a as Record<string, unknown>[], b as Record<string, unknown>[], path, diff);
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
      if (i >= b.length) diff.removed.push({ path: `${path}[${i}]`, value: a[i] });
      else if (i >= a.length) diff.added.push({ path: `${path}[${i}]`, value: b[i] });
      else walk(a[i], b[i], `${path}[${i}]`, diff);
    }
    return;
  }
  if (!sameValue(a, b)) diff.updated.push({ path, from: a, to: b });
}

function walkNamed(a: Record<string, unknown>[], b: Record<string, unknown>[], path: string, diff: ObjectDiff): void {
  const before = new Map(a.map((item, i) => [item.name as string, { item, i }]));
  const after = new Map(b.map((item, i) => [item.name as string, { item, i }]));
  for (const [name, { item, i }] of before) {
    const next = after.get(name);
    if (!next) diff.removed.push({ path: `${path}[${i}]`, value: item });
    else walk(item, next.item, `${path}[${next.i}]`, diff); // reported at the new position
  }
  for (const [name, { item, i }] of after) if (!before.has(name)) diff.added.push({ path: `${path}[${i}]`, value: item });
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  return JSON.stringify(a) === JSON.stringify(b);
}
