// Pure: a set of files as `path → blob id`, and what changed between two of them.
export type FileMap = Map<string, string>; // path (relative to a tree) → blob id

export interface FileChanges { added: string[]; changed: string[]; deleted: string[] }

export function compareFiles(before: FileMap, after: FileMap): FileChanges & { unchanged: number } {
  const changes: FileChanges & { unchanged: number } = { added: [], changed: [], deleted: [], unchanged: 0 };
  for (const [path, oid] of after) {
    const old = before.get(path);
    if (old === undefined) changes.added.push(path);
    else if (old !== oid) changes.changed.push(path);
    else changes.unchanged++;
  }
  for (const path of before.keys()) if (!after.has(path)) changes.deleted.push(path);
  for (const list of [changes.added, changes.changed, changes.deleted]) list.sort();
  return changes;
}
