// Pure: a snapshot's YAML → its data, fast, for the shapes serialize.ts writes.
//
// History answers diff two versions of each changed object, and `yaml`'s parse (a document model, then JS) was
// most of a page of changes: ~0.45 ms for a 1.2 KB object. This reader takes the block maps and sequences,
// plain / single- / double-quoted scalars and `|` / `|-` literal blocks that toYaml writes, line by line; plain
// scalars resolve through the library's own YAML 1.2 core-schema tags. Anything else (comments, flow
// collections, anchors, tags, folded or multi-line plain scalars, indentation indicators, a hand-edited file)
// goes to `yaml` whole, so the result never depends on which path read it (test/unit/parse.test.ts).
import { Document, isScalar, parse } from 'yaml';
import type { ScalarTag } from 'yaml';

/** What `yaml.parse` (YAML 1.2, core schema) reads from `text`. */
export function parseYaml(text: string): unknown {
  const fast = parseSnapshotYaml(text);
  return fast === UNUSUAL ? parse(text) : fast;
}

export const UNUSUAL = Symbol('unusual');
class Unusual extends Error {}

/** The fast path alone: the data, or UNUSUAL when the text is not in the shapes it reads. */
export function parseSnapshotYaml(text: string): unknown {
  if (!text.endsWith('\n') || text.includes('\r') || text.startsWith('\uFEFF')) return UNUSUAL;
  try {
    const reader = new Lines(text.slice(0, -1).split('\n'));
    const value = reader.node(0);
    return reader.done() ? value : UNUSUAL;
  } catch (e) {
    if (e instanceof Unusual) return UNUSUAL;
    throw e;
  }
}

// The core schema's tags that read a plain scalar as something other than a string, in the library's order.
const NON_STRING = (new Document(null, { version: '1.2' }).schema.tags as ScalarTag[])
  .filter((t) => t.default && t.test && t.tag !== 'tag:yaml.org,2002:str');
// Every non-string plain scalar starts with one of these (or is empty).
const MAY_BE_NON_STRING = /^(?:$|[-+.0-9~nNtTfF])/;
const RESOLVE_OPTIONS = { intAsBigInt: false } as never;

function plainValue(s: string): unknown {
  if (MAY_BE_NON_STRING.test(s)) {
    for (const tag of NON_STRING) {
      if (!tag.test!.test(s)) continue;
      const resolved = tag.resolve(s, () => {
        throw new Unusual();
      }, RESOLVE_OPTIONS);
      return isScalar(resolved) ? resolved.value : resolved;
    }
  }
  return s;
}

// What a plain scalar may not be or hold (serialize.ts writes those quoted, or as blocks): then it is not ours.
const NOT_PLAIN = /^[\t ,[\]{}#&*!|>'"%@`]|^[?-]$|^[?-][\t ]|:[\t ]|[\t ]#|[\t :]$/;
const DOCUMENT_MARKER = /^(?:%|---|\.\.\.)/;
// A double-quoted scalar with only the escapes JSON has (JSON.stringify's output): these mean the same in YAML.
const QUOTED = '"(?:[^"\\\\\\x00-\\x1f]|\\\\(?:["\\\\/bfnrt]|u[0-9a-fA-F]{4}))*"';
const DOUBLE_QUOTED = new RegExp(`^${QUOTED}$`);
const QUOTED_KEY = new RegExp(`^(${QUOTED}):(?: |$)`);
const MAP_ITEM = new RegExp(`^(?:${QUOTED}|[^'"|[{][^]*?)(?:: |:$)`);

function plain(s: string): string {
  if (NOT_PLAIN.test(s) || DOCUMENT_MARKER.test(s)) throw new Unusual();
  return s;
}

/** A scalar that ends its line (a block literal reads the lines after it). */
function inlineScalar(s: string, lines: Lines, parentIndent: number): unknown {
  switch (s[0]) {
    case '"':
      if (!DOUBLE_QUOTED.test(s)) throw new Unusual();
      return JSON.parse(s);
    case "'":
      if (s.length < 2 || !s.endsWith("'") || /'(?!')/.test(s.slice(1, -1).replaceAll("''", ''))) throw new Unusual();
      return s.slice(1, -1).replaceAll("''", "'");
    case '|':
      if (s !== '|' && s !== '|-') throw new Unusual(); // indentation indicators and keep-chomping: the library's
      return lines.literal(parentIndent, s === '|-');
    case '[':
      if (s !== '[]') throw new Unusual();
      return [];
    case '{':
      if (s !== '{}') throw new Unusual();
      return {};
    default:
      return plainValue(plain(s));
  }
}

class Lines {
  private readonly lines: string[];
  private readonly indents: number[];
  private at = 0;

  constructor(lines: string[]) {
    this.lines = lines;
    this.indents = lines.map((l) => {
      let i = 0;
      while (l.charCodeAt(i) === 32) i++;
      return i;
    });
  }

  done(): boolean {
    return this.at === this.lines.length;
  }

  private content(i: number): string {
    return this.lines[i].slice(this.indents[i]);
  }

  /** A block map or sequence whose lines start at `indent`. */
  node(indent: number): unknown {
    if (this.at >= this.lines.length || this.indents[this.at] !== indent) throw new Unusual();
    return this.isItem(this.at) ? this.sequence(indent) : this.map(indent);
  }

  private isItem(i: number): boolean {
    const line = this.lines[i];
    const at = this.indents[i];
    return line.charCodeAt(at) === 45 && line.charCodeAt(at + 1) === 32; // "- "
  }

  private map(indent: number): Record<string, unknown> {
    const map: Record<string, unknown> = {};
    while (this.at < this.lines.length && this.indents[this.at] === indent && !this.isItem(this.at)) {
      const content = this.content(this.at);
      if (!content) throw new Unusual(); // an empty line between entries
      const quoted = content[0] === '"' ? QUOTED_KEY.exec(content) : undefined;
      let key: string;
      let colon: number;
      if (quoted) {
        key = JSON.parse(quoted[1]);
        colon = quoted[0].length === content.length ? -1 : quoted[1].length;
      } else {
        colon = content.indexOf(': ');
        key = plain(colon < 0 ? (content.endsWith(':') ? content.slice(0, -1) : '') : content.slice(0, colon));
        // A plain key the library reads as a non-string (then converts) is not one we write plain; one over 1,024
        // characters it refuses.
        if (!key || plainValue(key) !== key || key.length > 1024) throw new Unusual();
      }
      if (key === '__proto__' || Object.hasOwn(map, key)) throw new Unusual();
      this.at++;
      map[key] = colon < 0 ? this.nested(indent) : inlineScalar(content.slice(colon + 2), this, indent);
    }
    return map;
  }

  /** The block after `key:`: deeper lines, or a sequence at the key's own indent. */
  private nested(indent: number): unknown {
    if (this.at >= this.lines.length) throw new Unusual();
    const next = this.indents[this.at];
    if (next > indent) return this.node(next);
    if (next === indent && this.isItem(this.at)) return this.sequence(indent);
    throw new Unusual(); // `key:` alone: null, which we never write so
  }

  private sequence(indent: number): unknown[] {
    const items: unknown[] = [];
    while (this.at < this.lines.length && this.indents[this.at] === indent && this.isItem(this.at)) {
      const rest = this.lines[this.at].slice(indent + 2);
      if (!rest || rest[0] === ' ') throw new Unusual();
      // A map or sequence item starts on the dash's line: read that line as if it were indented to its content.
      if (rest.startsWith('- ') || MAP_ITEM.test(rest)) {
        this.lines[this.at] = ' '.repeat(indent + 2) + rest;
        this.indents[this.at] = indent + 2;
        items.push(this.node(indent + 2));
      } else {
        this.at++;
        items.push(inlineScalar(rest, this, indent));
      }
    }
    return items;
  }

  /**
   * A `|` / `|-` block's lines (more indented than `parentIndent`), as its string. A line of spaces alone is an
   * empty line unless it has more than the block's indent (then those spaces are text); blank lines before the
   * first text or after the last are left to the library.
   */
  literal(parentIndent: number, strip: boolean): string {
    const blank = (i: number) => this.indents[i] === this.lines[i].length;
    const start = this.at;
    if (start >= this.lines.length || blank(start) || this.indents[start] <= parentIndent) throw new Unusual();
    const indent = this.indents[start];
    let end = start;
    for (let i = start; i < this.lines.length; i++) {
      if (blank(i)) {
        if (this.lines[i].length > indent) end = i + 1;
        continue;
      }
      if (this.indents[i] <= parentIndent) break;
      if (this.indents[i] < indent) throw new Unusual(); // less indented than its first line
      end = i + 1;
    }
    if (end < this.lines.length && blank(end)) throw new Unusual();
    this.at = end;
    const body = this.lines.slice(start, end).map((l) => l.slice(indent)).join('\n');
    return strip ? body : `${body}\n`;
  }
}
