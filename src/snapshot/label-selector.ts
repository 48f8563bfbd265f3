// Pure: Kubernetes label selectors as `kubectl -l` takes them (`owner=helm`, `owner in (helm,TILLER)`, `!tier`,
// `env!=prod`), for rules that pick objects by their labels.

export interface LabelSelector { source: string; matches(labels: Record<string, unknown> | undefined): boolean }

type Requirement = (labels: Record<string, unknown>) => boolean;

const KEY = '[A-Za-z0-9]([A-Za-z0-9._/-]*[A-Za-z0-9])?';
const VALUE = '([A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?)?';
const SET = new RegExp(`^(${KEY})\\s+(in|notin)\\s*\\(([^)]*)\\)$`);
const EQUALITY = new RegExp(`^(${KEY})\\s*(==|=|!=)\\s*(${VALUE})$`);
const EXISTS = new RegExp(`^(!?)\\s*(${KEY})$`);
const VALUE_ONLY = new RegExp(`^${VALUE}$`);

/** Splits at commas that are not inside `( … )`. */
function requirements(source: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < source.length; i++) {
    if (source[i] === '(') depth++;
    else if (source[i] === ')') depth--;
    else if (source[i] === ',' && depth === 0) {
      parts.push(source.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(source.slice(start));
  return parts.map((p) => p.trim());
}

function requirement(text: string, source: string): Requirement {
  const bad = (why: string): never => {
    throw new Error(`invalid label selector ${JSON.stringify(source)}: ${why}`);
  };
  const has = (l: Record<string, unknown>, k: string) => Object.hasOwn(l, k);
  let m = SET.exec(text);
  if (m) {
    const [key, op] = [m[1], m[3]];
    const values = m[4].split(',').map((v) => v.trim());
    if (values.some((v) => !VALUE_ONLY.test(v)) || values.every((v) => v === '')) bad(`"${text}" needs label values in ( … )`);
    const set = new Set(values);
    return op === 'in' ? (l) => has(l, key) && set.has(String(l[key])) : (l) => !has(l, key) || !set.has(String(l[key]));
  }
  m = EQUALITY.exec(text);
  if (m) {
    const [key, op, value] = [m[1], m[3], m[4]];
    return op === '!=' ? (l) => !has(l, key) || String(l[key]) !== value : (l) => has(l, key) && String(l[key]) === value;
  }
  m = EXISTS.exec(text);
  if (m) {
    const [not, key] = [m[1] === '!', m[2]];
    return (l) => has(l, key) !== not;
  }
  return bad(text === '' ? 'empty requirement' : `cannot read "${text}" (use key=value, key!=value, key in (a,b), key notin (a,b), key or !key)`);
}

/** Throws an Error naming the requirement that cannot be read. */
export function parseLabelSelector(source: string): LabelSelector {
  if (source.trim() === '') throw new Error('invalid label selector "": empty (leave labelSelector out to match every object)');
  const reqs = requirements(source).map((r) => requirement(r, source));
  return { source, matches: (labels) => reqs.every((r) => r(labels ?? {})) };
}
