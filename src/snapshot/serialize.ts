// Pure: object → deterministic YAML bytes (no folding, no anchors, trailing newline).
//
// Rendering is the largest CPU cost of a first sync, and the `yaml` package spends most of it building a document
// model. JSON data needs no model: this emitter writes the exact bytes `yaml.stringify` writes with OPTIONS for
// the shapes Kubernetes objects have (block maps and sequences, plain / double-quoted / block-literal strings).
// Anything rarer (control characters, keys that need quotes, keep-chomped text, …) goes to `yaml` whole, so
// the output never depends on which path rendered it (checked byte for byte in test/unit/serialize.test.ts).
import { Document, parse, stringify } from 'yaml';

// Written as YAML 1.2, read by YAML 1.1 parsers too: kubectl (sigs.k8s.io/yaml → go-yaml v2), PyYAML, Ruby
// read a plain `on`, `yes`, `y`, `No`, `~`, `0777`, `1_000`, `12:30`, `2001-12-14` or `<<` as a boolean, null,
// number, timestamp or merge key, so `kubectl apply -f` of a snapshot would change the data. Every plain scalar
// that the 1.1 schema (plus these words in any case, and `=`) reads as non-string is quoted, by the library
// (its `compat` option) and by the fast path alike.
const YAML11_WORDS = {
  tag: 'tag:kubetrail,2026:yaml-1.1-word', default: true, resolve: (s: string) => s,
  test: /^(?:y|yes|n|no|true|false|on|off|null|~|=|<<)$/i,
};
const YAML11_COMPAT = [...new Document(null, { version: '1.1' }).schema.tags, YAML11_WORDS];

const OPTIONS = { lineWidth: 0, aliasDuplicateObjects: false, version: '1.2', compat: YAML11_COMPAT } as const;

/** The reference rendering; also the fallback for what the fast path does not cover. */
export function toYamlWithLibrary(obj: unknown): string {
  return stringify(obj, OPTIONS);
}

export function toYaml(obj: unknown): string {
  if (isMap(obj) && Object.keys(obj).length > 0) {
    try {
      return `${mapBody(obj, '')}\n`;
    } catch (e) {
      if (!(e instanceof Unusual)) throw e;
    }
  }
  return faithfulLibraryYaml(obj);
}

/**
 * The library's rendering, read back to be sure it means the same data: `yaml` writes a few whitespace-only
 * multi-line strings (e.g. " \n") as block scalars that read back differently. Those get quoted strings instead,
 * and JSON (which YAML 1.2 reads as is) is the last resort. Only rare documents come here.
 */
function faithfulLibraryYaml(obj: unknown): string {
  const expected = JSON.stringify(obj);
  for (const text of [toYamlWithLibrary(obj), stringify(obj, { ...OPTIONS, blockQuote: false })]) {
    if (JSON.stringify(parse(text, { version: '1.2' })) === expected) return text;
  }
  return `${JSON.stringify(obj, null, 2)}\n`;
}

class Unusual extends Error {}

// The same tests `yaml` applies before writing a string plain (stringifyString.js, YAML 1.2 core schema).
// Control characters, and lone surrogates (isWellFormed: a unicode-mode regex for them costs 1.5x as much).
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/;
const unusualText = (s: string) => CONTROL.test(s) || !s.isWellFormed();
const NOT_PLAIN = /^[\n\t ,[\]{}#&*!|>'"%@`]|^[?-]$|^[?-][ \t]|[\n:][ \t]|[ \t]\n|[\n\t ]#|[\n\t :]$/;
const DOCUMENT_MARKER = /^(%|---|\.\.\.)/m;
const NON_STRING_TAGS = [...new Document(null, { version: '1.2' }).schema.tags, ...YAML11_COMPAT]
  .flatMap((t) => t.default && t.tag !== 'tag:yaml.org,2002:str' && t.test ? [t.test] : []);
// Every non-string scalar of both schemas starts with one of these (or is empty): most strings skip the tests.
const MAY_BE_NON_STRING = /^(?:$|[-+.0-9~=<nNyYoOtTfF])/;
const readsAsNonString = (s: string) => MAY_BE_NON_STRING.test(s) && NON_STRING_TAGS.some((re) => re.test(s));

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isEmpty = (v: object) => (Array.isArray(v) ? v.length : Object.keys(v).length) === 0;

/** A block map at `indent`; the first line carries no indent (the caller writes what precedes it). */
function mapBody(obj: Record<string, unknown>, indent: string): string {
  let out = '';
  for (const key of Object.keys(obj)) {
    const value = obj[key];
    if (value === undefined) continue;
    out += `${out ? `\n${indent}` : ''}${plainKey(key)}:${valueAfterColon(value, `${indent}  `)}`;
  }
  if (!out) throw new Unusual(); // only undefined values: let the library decide
  return out;
}

function seqBody(items: unknown[], indent: string): string {
  let out = '';
  for (let i = 0; i < items.length; i++) {
    const item = items[i];
    const inner = `${indent}  `;
    const text = typeof item === 'object' && item !== null && !isEmpty(item)
      ? (Array.isArray(item) ? seqBody(item, inner) : mapBody(item as Record<string, unknown>, inner))
      : scalar(item, inner);
    out += `${i ? `\n${indent}` : ''}- ${text}`;
  }
  return out;
}

/** What follows `key:` — a nested block on the next lines, or a space and a scalar. */
function valueAfterColon(value: unknown, indent: string): string {
  if (typeof value === 'object' && value !== null && !isEmpty(value)) {
    return `\n${indent}${Array.isArray(value) ? seqBody(value, indent) : mapBody(value as Record<string, unknown>, indent)}`;
  }
  return ` ${scalar(value, indent)}`;
}

function plainKey(key: string): string {
  if (key.length > 1024 || key.includes('\n') || unusualText(key) || NOT_PLAIN.test(key) ||
    DOCUMENT_MARKER.test(key) || readsAsNonString(key)) throw new Unusual();
  return key;
}

function scalar(value: unknown, indent: string): string {
  switch (typeof value) {
    case 'string': return stringScalar(value, indent);
    case 'boolean': return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw new Unusual();
      return Object.is(value, -0) ? '-0' : JSON.stringify(value);
    case 'object':
      if (value === null) return 'null';
      return Array.isArray(value) ? '[]' : '{}'; // callers pass only empty collections here
    default: throw new Unusual();
  }
}

function stringScalar(value: string, indent: string): string {
  if (unusualText(value)) throw new Unusual();
  if (value.includes('\n')) return blockLiteral(value, indent);
  if (!NOT_PLAIN.test(value) && !readsAsNonString(value)) return value;
  if (value.includes('"')) {
    if (value.includes("'")) throw new Unusual();
    return `'${value}'`;
  }
  return JSON.stringify(value); // no newline or control character: yaml's double quoting is JSON's
}

/** `|` / `|-` literal block, as yaml's blockString writes it; keep-chomping (`|+`) goes to the library. */
function blockLiteral(text: string, indent: string): string {
  if (/^[\t ]+$/.test(text.slice(text.lastIndexOf('\n') + 1))) throw new Unusual(); // yaml quotes these
  let endStart = text.length;
  while (endStart > 0 && (text[endStart - 1] === '\n' || text[endStart - 1] === '\t' || text[endStart - 1] === ' ')) endStart--;
  let end = text.substring(endStart);
  const endNl = end.indexOf('\n');
  if (endNl !== -1 && (text === end || endNl !== end.length - 1)) throw new Unusual();
  const chomp = endNl === -1 ? '-' : '';
  let body = text;
  if (end) {
    body = body.slice(0, -end.length);
    if (end.endsWith('\n')) end = end.slice(0, -1);
  }
  let startWithSpace = false;
  let lastLeadingNl = -1;
  for (let i = 0; i < body.length; i++) {
    if (body[i] === ' ') startWithSpace = true;
    else if (body[i] === '\n') lastLeadingNl = i;
    else break;
  }
  let start = body.substring(0, lastLeadingNl + 1);
  if (start) {
    body = body.substring(start.length);
    start = indentLines(start, indent);
  }
  return `|${startWithSpace ? '2' : ''}${chomp}\n${indent}${start}${indentLines(body, indent)}${end}`;
}

/** Indents every line after a newline, empty lines excepted (a run of newlines gets one indent, after its last). */
function indentLines(text: string, indent: string): string {
  // replaceAll of a plain string is several times faster than a regex, and the same without empty lines.
  return text.includes('\n\n') ? text.replace(/\n(?!\n)/g, `\n${indent}`) : text.replaceAll('\n', `\n${indent}`);
}
