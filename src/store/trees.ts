// Trees: read one, find a path in one, list every file under one, write them bottom-up from `path → blob id`,
// and replace one subtree while every other entry keeps its mode and name bytes.
import { encodeTree, parseTree, parseTreeRaw, type TreeEntry } from './codec.ts';
import type { FileMap } from './files.ts';
import type { ObjectDatabase } from './object-db.ts';
import type { ObjectBatch } from './pack.ts';

/** Where trees are read from and written to. */
export type TreeObjects = Pick<ObjectDatabase, 'read' | 'writer'>;

export interface TreeListing { mode: string; path: string; oid: string; type: string }

export async function readTree(db: TreeObjects, oid: string): Promise<TreeListing[]> {
  return parseTree(await db.read(oid));
}

/** The id of the tree or blob at `path` inside `treeOid`, if any. */
export async function entryAt(db: TreeObjects, treeOid: string, path: string): Promise<string | undefined> {
  let oid: string | undefined = treeOid;
  for (const name of path.split('/').filter(Boolean)) {
    const entries = await readTree(db, oid!);
    oid = entries.find((e) => e.path === name)?.oid;
    if (!oid) return undefined;
  }
  return oid;
}

/** Every file under a tree, as `relative/path → blob id`. */
export async function listFiles(db: TreeObjects, treeOid: string | undefined, prefix = ''): Promise<FileMap> {
  const files: FileMap = new Map();
  const walk = async (oid: string, base: string): Promise<void> => {
    for (const e of await readTree(db, oid)) {
      const path = base ? `${base}/${e.path}` : e.path;
      if (e.type === 'tree') await walk(e.oid, path);
      else files.set(path, e.oid);
    }
  };
  if (treeOid) await walk(treeOid, prefix);
  return files;
}

/**
 * Writes the trees for a set of files bottom-up and returns the root tree id (undefined when empty). With
 * `base` (the tree the files were before, and which paths changed since), only directories above a changed
 * path are written; every other directory keeps its tree id from `base` and its files are not even grouped.
 * With `batch`, the trees go where the sync's blobs went (into its pack, for a first sync: one fsync instead
 * of one per tree).
 */
export async function writeTreeFromFiles(
  db: TreeObjects, files: FileMap, base?: { tree: string | undefined; changed: Iterable<string> }, batch?: ObjectBatch,
): Promise<string | undefined> {
  const dirty = new Set<string>(['']);
  const markParents = (path: string) => {
    for (let at = path.lastIndexOf('/'); at > 0 && !dirty.has(path.slice(0, at)); at = path.lastIndexOf('/', at - 1)) {
      dirty.add(path.slice(0, at));
    }
  };
  for (const path of base?.tree ? base.changed : files.keys()) markParents(path);
  const subdirs = new Map<string, Set<string>>(); // dirty directory → its dirty subdirectories' names
  for (const dir of dirty) {
    if (!dir) continue;
    const at = dir.lastIndexOf('/');
    const parent = at < 0 ? '' : dir.slice(0, at);
    let names = subdirs.get(parent);
    if (!names) subdirs.set(parent, names = new Set());
    names.add(dir.slice(at + 1));
  }
  const filesIn = new Map<string, TreeEntry[]>(); // dirty directory → the files directly in it
  for (const [path, oid] of files) {
    const at = path.lastIndexOf('/');
    const dir = at < 0 ? '' : path.slice(0, at);
    if (!dirty.has(dir)) continue;
    let entries = filesIn.get(dir);
    if (!entries) filesIn.set(dir, entries = []);
    entries.push({ mode: '100644', name: path.slice(at + 1), oid });
  }
  const write = async (dir: string, baseOid: string | undefined): Promise<string | undefined> => {
    const entries = [...filesIn.get(dir) ?? []];
    const changedSubdirs = subdirs.get(dir) ?? new Set<string>();
    const baseSubdirs = new Map((baseOid ? await readTree(db, baseOid) : []).filter((e) => e.type === 'tree').map((e) => [e.path, e.oid]));
    for (const [name, oid] of baseSubdirs) if (!changedSubdirs.has(name)) entries.push({ mode: '040000', name, oid });
    for (const name of changedSubdirs) {
      const oid = await write(dir ? `${dir}/${name}` : name, baseSubdirs.get(name));
      if (oid) entries.push({ mode: '040000', name, oid });
    }
    if (entries.length === 0) return undefined;
    return batch ? batch.write('tree', encodeTree(entries)) : db.writer.write('tree', encodeTree(entries));
  };
  return write('', base?.tree);
}

/**
 * Returns a new root tree equal to `rootTree` with the subtree at `path` replaced (or removed when undefined).
 * Every other entry keeps its mode and name bytes (submodules, symlinks, executables, names that are not UTF-8).
 */
export async function replaceSubtree(db: TreeObjects, rootTree: string | undefined, path: string, subtree: string | undefined): Promise<string> {
  const [name, ...rest] = path.split('/');
  const key = Buffer.from(name);
  const entries = rootTree ? parseTreeRaw(await db.read(rootTree)) : [];
  const isName = (e: TreeEntry) => Buffer.compare(e.name as Buffer, key) === 0;
  const existing = entries.find((e) => isName(e) && (e.mode === '40000' || e.mode === '040000'));
  const child = rest.length === 0 ? subtree : await replaceSubtreeOrEmpty(db, existing?.oid, rest.join('/'), subtree);
  const kept = entries.filter((e) => !isName(e));
  if (child) kept.push({ mode: '40000', name: key, oid: child });
  return db.writer.write('tree', encodeTree(kept));
}

async function replaceSubtreeOrEmpty(db: TreeObjects, tree: string | undefined, path: string, subtree: string | undefined) {
  const oid = await replaceSubtree(db, tree, path, subtree);
  return (await readTree(db, oid)).length === 0 ? undefined : oid;
}
