// The fast YAML reader must read exactly what `yaml.parse` reads, key order included, or step aside (UNUSUAL):
// every tricky string as value, item and key at several depths, 5,000 random documents as kubetrail and as the
// library write them, a real manifest, and the hand-edited forms only the library reads.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { parseSnapshotYaml, parseYaml, UNUSUAL } from '../../src/snapshot/parse.ts';
import { toYaml, toYamlWithLibrary } from '../../src/snapshot/serialize.ts';
import { random, randomValue, TRICKY } from '../helpers/yaml-corpus.ts';

/** Same data and key order as the library's reading (-0, NaN and Infinity included), or UNUSUAL; how it went. */
function readsAsLibrary(text: string): 'fast' | 'unusual' {
  let expected: unknown;
  try {
    expected = parse(text);
  } catch {
    expected = UNUSUAL; // the library refuses it: the fast path must not accept it
  }
  const fast = parseSnapshotYaml(text);
  if (fast === UNUSUAL) return 'unusual';
  expect(fast, text).toStrictEqual(expected);
  expect(JSON.stringify(fast), text).toBe(JSON.stringify(expected));
  return 'fast';
}

describe('parseSnapshotYaml', () => {
  it('reads every tricky string as the library does, as value, item and key at several depths', () => {
    const seen = { fast: 0, unusual: 0 };
    for (const s of [...TRICKY, 0, -0, 1.5, 1e21, -7, true, false, null, [], {}]) {
      const key = String(s);
      for (const doc of [{ s }, { a: { b: s } }, { l: [s, { m: s }] }, { l: [[s]] }, { [key]: 1 }, { a: [{ [key]: [s] }] }]) {
        for (const text of [toYaml(doc), toYamlWithLibrary(doc), stringify(doc, { indentSeq: false })]) seen[readsAsLibrary(text)]++;
      }
    }
    expect(seen.fast).toBeGreaterThan(seen.unusual * 3);
  });

  it('reads 5,000 random documents as the library does, most of them without it', () => {
    const rnd = random(11);
    const seen = { fast: 0, unusual: 0 };
    for (let i = 0; i < 5000; i++) {
      const doc = { apiVersion: 'v1', kind: 'ConfigMap', data: randomValue(rnd, 0), spec: randomValue(rnd, 1) };
      seen[readsAsLibrary(toYaml(doc))]++;
      readsAsLibrary(toYamlWithLibrary(doc));
    }
    // The rest hold what toYaml leaves to the library (60% of these scalars are the tricky strings: `...`, text
    // starting with a space, keep-chomped blocks, …); real objects go fast (the manifest below, every one).
    expect(seen.fast).toBeGreaterThan(3000);
  }, 60_000);

  it('reads a real manifest as written by kubetrail without the library', () => {
    const docs = parseAllDocuments(readFileSync(new URL('../fixtures/real-world/kubernetes-dashboard.yaml', import.meta.url), 'utf8'))
      .map((d) => d.toJS()).filter((d) => d);
    expect(docs.length).toBeGreaterThan(10);
    for (const doc of docs) expect(readsAsLibrary(toYaml(doc))).toBe('fast');
  });

  it('steps aside for what only the library reads: comments, flow, anchors, tags, folded or multi-line plain scalars', () => {
    for (const text of [
      'a: 1 # note\n', '# head\na: 1\n', 'a: [1, 2]\n', 'a: {b: 1}\n', 'a: &x 1\nb: *x\n', 'a: !!str 1\n', 'a: >\n  folded\n  text\n',
      'a: plain\n  continued\n', 'a: |+\n  keep\n\n', 'a: |2\n   two\n', 'a:\n', "'a': 1\n", '"a" : 1\n', 'a: 1\na: 2\n', '---\na: 1\n',
      'a: 1\n\n', 'a: 1', 'a:\tb\n', 'a: "x\n  y"\n', "a: 'x\n  y'\n", 'a: "\\x41"\n', '- a\n-\n', 'a: |\n  x\n\nb: 1\n', '1: a\n',
      'true: a\n', 'a: b: c\n', '? a\n: b\n', 'a: 1\r\n', '__proto__: 1\n', 'a: |\n\n  x\n', '\uFEFFa: 1\n',
      `${'k'.repeat(1025)}: 1\n`, 'a: |\n  x\n  \nb: 1\n', 'a: |-\n  x\n \n', 'a: |\n \n  x\n',
    ]) {
      expect(parseSnapshotYaml(text), JSON.stringify(text)).toBe(UNUSUAL);
      expect(() => parseYaml(text)).not.toThrow(/unusual/i);
    }
    expect(parseYaml('a: [1, 2] # c\n')).toEqual({ a: [1, 2] });
    // Lines of spaces in a block: empty lines, or text when more indented than the block; read as the library does.
    for (const text of ['a: |\n  x\n \n  y\nb: 1\n', 'a: |-\n  x\n    \n  y\n', 'a: |\n  x\n     \nb: 1\n', '- |\n  x\n\n  \n  y\n']) {
      expect(readsAsLibrary(text), JSON.stringify(text)).toBe('fast');
    }
  });

  it('reads the shapes kubetrail writes', () => {
    const text = 'apiVersion: v1\nkind: ConfigMap\ndata:\n  script: |-\n    #!/bin/sh\n\n    echo "hi"\n  n: "80"\n  q: \'it\'\'s\'\n' +
      'metadata:\n  labels: {}\n  name: x\nspec:\n  list:\n  - name: a\n    value: 1.5\n  - - 0x1F\n    - .inf\n  - []\n  empty: []\n  t: true\n  z: ~\n';
    expect(parseSnapshotYaml(text)).toStrictEqual(parse(text));
    expect(parseSnapshotYaml(text)).toMatchObject({ data: { script: '#!/bin/sh\n\necho "hi"', n: '80', q: "it's" }, spec: { list: [{ name: 'a', value: 1.5 }, [31, Infinity], []], z: null } });
  });
});
