// The simulated year of bench/history-year.ts: the same plan for a seed, the shape issue 21 asks for, and the
// percentiles its table reports.
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseObjectPath } from '../../src/model/object-path.ts';
import { percentile, summarize } from '../../bench/percentile.ts';
import { CLUSTERS, HOT, LAST_COMMIT, objectYaml, pathOf, planYear, YEAR_SECONDS, yearObject, type PlannedCommit, type YearPlan } from '../../bench/year-objects.ts';

const OBJECTS = 300;
const run = (commits: number, seed = 21) => {
  const plan: YearPlan = { versions: [], alive: [] };
  return { commits: [...planYear({ commits, objects: OBJECTS, seed }, plan)], plan };
};

describe('percentile', () => {
  it('is the nearest rank, a value some request took', () => {
    const xs = Array.from({ length: 100 }, (_, i) => 100 - i); // 100..1, unsorted
    expect(percentile(xs, 50)).toBe(50);
    expect(percentile(xs, 99)).toBe(99);
    expect(percentile(xs, 100)).toBe(100);
    expect(percentile([7, 3, 5], 50)).toBe(5);
    expect(percentile([4], 99)).toBe(4);
    expect(percentile([], 50)).toBeNaN();
    expect(xs[0]).toBe(100); // the input is not sorted in place
    expect(summarize([1, 2, 3, 400])).toEqual({ n: 4, p50: 2, p99: 400, max: 400 });
  });
});

describe('the simulated year', () => {
  it('is the same for a seed and another for another seed', () => {
    const strip = (cs: PlannedCommit[]) => JSON.stringify(cs);
    expect(strip(run(400).commits)).toBe(strip(run(400).commits));
    expect(strip(run(400, 22).commits)).not.toBe(strip(run(400).commits));
  });

  it('spans a year, times increasing; each cluster first adds its objects, then commits change 1-20 of one cluster', () => {
    const { commits } = run(2000);
    expect(commits[0].time).toBe(LAST_COMMIT - YEAR_SECONDS);
    expect(commits.at(-1)!.time).toBe(LAST_COMMIT);
    for (let i = 1; i < commits.length; i++) expect(commits[i].time).toBeGreaterThan(commits[i - 1].time);
    CLUSTERS.forEach((_, c) => {
      expect(commits[c].cluster).toBe(c);
      expect(commits[c].changes).toHaveLength(OBJECTS);
      expect(commits[c].changes.every((ch) => ch.op === 'add')).toBe(true);
    });
    for (const commit of commits.slice(CLUSTERS.length)) {
      expect(commit.changes.length).toBeGreaterThanOrEqual(1);
      expect(commit.changes.length).toBeLessThanOrEqual(20);
      expect(new Set(commit.changes.map((ch) => ch.index)).size).toBe(commit.changes.length);
    }
  });

  it('has deletions and re-creations (a new uid), and a few hot objects that change far more often than most', () => {
    const { commits, plan } = run(3000);
    const all = commits.slice(CLUSTERS.length).flatMap((c) => c.changes.map((ch) => ({ ...ch, cluster: c.cluster })));
    expect(all.filter((ch) => ch.op === 'delete').length).toBeGreaterThan(5);
    const recreated = all.find((ch) => ch.op === 'add' && ch.generation > 0)!;
    expect(recreated).toBeDefined();
    const obj = yearObject(recreated.cluster, recreated.index);
    const uid = (generation: number) => parse(objectYaml(recreated.cluster, obj, 0, 0, generation)).metadata.uid;
    expect(uid(recreated.generation)).not.toBe(uid(0));
    const versions = [...plan.versions[0]];
    const hot = versions.slice(0, HOT).reduce((a, b) => a + b) / HOT;
    const rest = versions.slice(HOT).sort((a, b) => a - b);
    expect(hot).toBeGreaterThan(5 * rest[Math.floor(rest.length / 2)]);
  });

  it('writes YAML a sync could have written, at the path kubetrail gives the object', () => {
    expect(pathOf(yearObject(0, 0))).toBe('clusters/prod-us/apps.v1.Deployment/shop/checkout.yaml');
    const kinds = new Set<string>();
    for (let i = 0; i < 400; i++) {
      const o = yearObject(3, i);
      const text = objectYaml(3, o, i % 7, LAST_COMMIT - 1000, 0);
      const doc = parse(text);
      kinds.add(doc.kind);
      expect(Buffer.byteLength(text)).toBeGreaterThan(300);
      expect(Buffer.byteLength(text)).toBeLessThan(2100);
      expect(Object.keys(doc).slice(0, 3)).toEqual(['apiVersion', 'kind', 'metadata']);
      expect(doc.metadata.name).toBe(o.name);
      expect(doc.metadata.namespace).toBe(o.namespace);
      const location = parseObjectPath(pathOf(o))!;
      expect(location).toMatchObject({ clusterId: 'staging-us', type: o.type, namespace: o.namespace, file: `${o.name}.yaml` });
      expect(o.type.endsWith(`.${doc.kind}`)).toBe(true);
    }
    expect(kinds.size).toBeGreaterThanOrEqual(8);
    // A change is a different file; the same revision the same bytes.
    const o = yearObject(0, 0);
    expect(objectYaml(0, o, 1, 0, 0)).not.toBe(objectYaml(0, o, 2, 0, 0));
    expect(objectYaml(0, o, 2, 0, 0)).toBe(objectYaml(0, o, 2, 0, 0));
  });
});
