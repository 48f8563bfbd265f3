// Type-name patterns (`apps.*`, `*.Event`, `*.k8s.io.*`, `core.v1.Secret`) matched structurally.
//
// A type name is `<group>.<version>.<Kind>`, and groups contain dots, so a plain glob over the whole name
// would let `apps.*` match `apps.example.com.v1.Foo`. Instead a pattern is split, from the right, into the
// same three parts and each part is globbed on its own:
//   - the last segment is the Kind (`*` = any Kind);
//   - the one before it is the version when it looks like one (`v1`, `v2beta1`, `*`), else any version;
//   - the rest is the group (empty = any group); inside the group `*` may span dots (`*.k8s.io`).
// So `apps.*` = every type of group `apps`; `*.Event` = Event of any group; `*.k8s.io.*` = every type of any
// group ending in `.k8s.io`; `Secret` = Secret of any group.
import { Minimatch } from 'minimatch';

export interface TypeName { group: string; version: string; kind: string }

export interface TypePattern {
  source: string;
  matches(type: TypeName): boolean;
}

const VERSION = /^v\d+((alpha|beta)\d+)?$/;

/** Parses a type name from the right: groups contain dots, versions and Kinds never do. */
export function parseTypeName(name: string): TypeName | undefined {
  const k = name.lastIndexOf('.');
  const v = name.lastIndexOf('.', k - 1);
  if (k <= 0 || v <= 0) return undefined;
  return { group: name.slice(0, v), version: name.slice(v + 1, k), kind: name.slice(k + 1) };
}

export function formatTypeName(t: TypeName): string {
  return `${t.group || 'core'}.${t.version}.${t.kind}`;
}

function glob(part: string): (s: string) => boolean {
  if (part === '' || part === '*' || part === '**') return () => true;
  const mm = new Minimatch(part.replaceAll('**', '*'), { dot: true, nocomment: true, nonegate: true });
  return (s) => mm.match(s);
}

// minimatch reads any string as some pattern (an unclosed `[` becomes a literal), so we check the syntax ourselves.
function checkSyntax(source: string): void {
  const bad = source.match(/[^A-Za-z0-9.*?[\]{},!-]/);
  if (!source || bad) throw new Error(`invalid type pattern "${source}"${bad ? ` (character "${bad[0]}" is not allowed)` : ''}`);
  const stack: string[] = [];
  for (const ch of source) {
    if (ch === '[' || ch === '{') stack.push(ch === '[' ? ']' : '}');
    else if ((ch === ']' || ch === '}') && stack.pop() !== ch) throw new Error(`invalid type pattern "${source}" (unbalanced "${ch}")`);
  }
  if (stack.length) throw new Error(`invalid type pattern "${source}" (unclosed "${stack.at(-1) === ']' ? '[' : '{'}")`);
}

/** Throws an Error saying what is wrong when the pattern cannot be used. */
export function compileTypePattern(source: string): TypePattern {
  checkSyntax(source);
  const segments = source.split('.');
  if (segments.some((s) => s === '')) throw new Error(`invalid type pattern "${source}" (empty segment)`);
  const kind = segments.pop()!;
  let version = '*';
  if (segments.length > 0 && (VERSION.test(segments.at(-1)!) || segments.at(-1) === '*')) version = segments.pop()!;
  const group = segments.join('.');
  const [g, v, k] = [glob(group), glob(version), glob(kind)];
  return { source, matches: (t) => g(t.group || 'core') && v(t.version) && k(t.kind) }; // the core group is '' in the API
}

export function matchesAny(patterns: TypePattern[], type: TypeName): TypePattern | undefined {
  return patterns.find((p) => p.matches(type));
}
