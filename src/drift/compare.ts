// Pure: recorded files against live ones (both as a sync renders them), per object a unified diff like
// `kubectl diff` and the field-level `{added, removed, updated}` form of the API (history/diff.ts).
import { createTwoFilesPatch } from 'diff';
import { parseYaml } from '../snapshot/parse.ts';
import { diffObjects, type ObjectDiff } from '../history/diff.ts';
import { CLUSTER_SCOPED_DIR } from '../model/object-path.ts';

export interface Drift {
  /** Path inside the cluster's directory. */
  path: string;
  type: string;
  namespace?: string;
  name: string;
  /** `added`: live but not recorded; `deleted`: recorded but gone live. */
  kind: 'added' | 'changed' | 'deleted';
  unified: string;
  diff: ObjectDiff;
}

const nameOf = (value: unknown, path: string) => {
  const name = (value as { metadata?: { name?: unknown } } | undefined)?.metadata?.name;
  return typeof name === 'string' ? name : path.slice(path.lastIndexOf('/') + 1).replace(/\.yaml$/, '');
};

/** A unified diff with the header `diff -u -N` writes, from `recorded/<path>` to `live/<path>`. */
export function unifiedDiff(path: string, recorded: string | undefined, live: string | undefined): string {
  const patch = createTwoFilesPatch(recorded === undefined ? '/dev/null' : `recorded/${path}`, live === undefined ? '/dev/null' : `live/${path}`,
    recorded ?? '', live ?? '', undefined, undefined, { context: 3 });
  return `diff -u -N recorded/${path} live/${path}\n${patch.slice(patch.indexOf('---'))}`;
}

/** Every object whose recorded and live texts differ, by path. */
export function compareStates(recorded: ReadonlyMap<string, string>, live: ReadonlyMap<string, string>): Drift[] {
  const drift: Drift[] = [];
  for (const path of [...new Set([...recorded.keys(), ...live.keys()])].sort()) {
    const a = recorded.get(path);
    const b = live.get(path);
    if (a === b) continue;
    const [before, after] = [a, b].map((t) => (t === undefined ? undefined : parseYaml(t) as unknown));
    const [type, ns] = path.split('/');
    const namespaceOf = (v: unknown) => (v as { metadata?: { namespace?: string } } | undefined)?.metadata?.namespace;
    drift.push({
      path, type, ...(ns !== CLUSTER_SCOPED_DIR ? { namespace: namespaceOf(after ?? before) ?? ns } : {}),
      name: nameOf(after ?? before, path), kind: a === undefined ? 'added' : b === undefined ? 'deleted' : 'changed',
      unified: unifiedDiff(path, a, b), diff: diffObjects(before, after),
    });
  }
  return drift;
}
