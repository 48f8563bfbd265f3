import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { toYaml, toYamlWithLibrary } from '../../src/snapshot/serialize.ts';
import { random, randomValue, TRICKY } from '../helpers/yaml-corpus.ts';


const readsBack = (text: string, doc: unknown) => JSON.stringify(parse(text, { version: '1.2' })) === JSON.stringify(doc);

describe('toYaml', () => {
  it('writes the bytes the yaml library writes, for every tricky string as value, item and key at several depths', () => {
    for (const s of TRICKY) {
      for (const doc of [{ s }, { a: { b: s } }, { l: [s, { m: s }] }, { l: [[s]] }, { [s]: 1 }, { a: [{ [s]: [s] }] }]) {
        const library = toYamlWithLibrary(doc);
        if (readsBack(library, doc)) expect(toYaml(doc), JSON.stringify(doc)).toBe(library);
        expect(readsBack(toYaml(doc), doc), JSON.stringify(doc)).toBe(true);
      }
    }
  });

  it('matches the yaml library on 5,000 random documents and reads back as the same data', () => {
    const rnd = random(7);
    let unfaithful = 0;
    for (let i = 0; i < 5000; i++) {
      const doc = { apiVersion: 'v1', kind: 'ConfigMap', data: randomValue(rnd, 0), spec: randomValue(rnd, 1) };
      const text = toYaml(doc);
      const library = toYamlWithLibrary(doc);
      if (readsBack(library, doc)) expect(text, JSON.stringify(doc)).toBe(library);
      else unfaithful++;
      expect(parse(text, { version: '1.2' })).toEqual(JSON.parse(JSON.stringify(doc)));
    }
    expect(unfaithful).toBeLessThan(500); // whitespace-only multi-line strings, which the library misrenders
  }, 60_000); // CPU-bound: survives a loaded 2-core machine (it once timed out at 5 s beside an apiserver build)

  it('keeps whitespace-only multi-line strings that the yaml library would change', () => {
    for (const s of [' \n', '\n', '  \n\n', '\t\n']) {
      expect(parse(toYaml({ a: s, b: [s] }), { version: '1.2' })).toEqual({ a: s, b: [s] });
    }
    expect(parse(toYamlWithLibrary({ a: ' \n' }), { version: '1.2' })).not.toEqual({ a: ' \n' }); // why the check exists
  });

  it('renders a typical object without quoting what needs none, and literal blocks for multi-line data', () => {
    const text = toYaml({
      apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'app', labels: { 'app.kubernetes.io/name': 'web' }, annotations: { enabled: 'true' } },
      data: { 'app.properties': 'a=1\nb=2\n', empty: '', port: '8080' }, items: [], extra: {},
    });
    expect(text).toBe([
      'apiVersion: v1', 'kind: ConfigMap', 'metadata:', '  name: app', '  labels:', '    app.kubernetes.io/name: web',
      '  annotations:', '    enabled: "true"', 'data:', '  app.properties: |', '    a=1', '    b=2', '  empty: ""', '  port: "8080"',
      'items: []', 'extra: {}', '',
    ].join('\n'));
  });

  it('quotes every scalar a YAML 1.1 reader (kubectl, PyYAML) takes for a boolean, null, number, timestamp or merge key', () => {
    const strings = [...YAML11_SPECIAL, ...YAML11_SPECIAL.map((w) => w.toUpperCase()), ...YAML11_SPECIAL.map((w) => w.charAt(0).toUpperCase() + w.slice(1))];
    const doc = { data: Object.fromEntries(strings.map((w) => [w, w])), list: strings };
    const text = toYaml(doc);
    expect(parse(text, { version: '1.1' })).toEqual(doc);
    expect(parse(text, { version: '1.2' })).toEqual(doc);
    for (const w of ['on', 'Yes', 'N', 'OFF', '~', '0777', '1_000', '12:30', '2001-12-14', '<<', '=']) {
      expect(text, w).toContain(`\n  "${w}": "${w}"\n`);
    }
    expect(toYaml({ a: 'one', b: 'nginx:1.27', c: 'Never' })).toBe('a: one\nb: nginx:1.27\nc: Never\n'); // no quotes where none are needed
  });
});

// Plain scalars YAML 1.1 (and 1.2) reads as something other than a string (yaml.org/type/*.html).
const YAML11_SPECIAL = [
  'y', 'yes', 'n', 'no', 'on', 'off', 'true', 'false', 'oN', 'yEs', '~', 'null', '', '.inf', '-.inf', '+.INF', '.nan', '.NaN',
  '0x1F', '0o17', '0777', '0b1010', '-0b1', '1_000', '+1_000', '1e3', '1E-3', '6.8523015e+5', '685.230_15e+03', '685_230.15',
  '12:30', '190:20:30', '190:20:30.15', '-1:30', '2001-12-14', '2001-12-14t21:59:43.10-05:00', '2001-12-14 21:59:43.10 -5',
  '2001-12-15T02:59:43.1Z', '=', '<<', '0', '-0', '+12', '1.', '.5', '+.5',
];
