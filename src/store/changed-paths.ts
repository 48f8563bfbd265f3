// The files a commit changed against its first parent, as git's recursive tree diff lists them for the
// changed-path Bloom filters: raw name bytes, no rename detection, stopping once there are too many to keep.
import { parseTreeRaw, type TreeEntry } from './codec.ts';

export type ReadObject = (oid: string) => Promise<Buffer>;

const isTree = (e: TreeEntry) => e.mode === '40000' || e.mode === '040000';
const nameBytes = (e: TreeEntry) => (typeof e.name === 'string' ? Buffer.from(e.name) : e.name);
const join = (prefix: Buffer, e: TreeEntry) => (prefix.length ? Buffer.concat([prefix, Buffer.from('/'), nameBytes(e)]) : nameBytes(e));

/**
 * Paths of the files that differ between trees `from` (undefined: a root commit) and `to`; once more than `limit`
 * are found it stops and returns what it has (the caller only needs to know there are too many).
 */
export async function changedFiles(read: ReadObject, from: string | undefined, to: string | undefined, limit: number): Promise<Buffer[]> {
  const out: Buffer[] = [];
  const entries = async (oid: string | undefined) => (oid ? parseTreeRaw(await read(oid)) : []);
  const walk = async (a: string | undefined, b: string | undefined, prefix: Buffer): Promise<void> => {
    if (a === b) return;
    const before = new Map((await entries(a)).map((e) => [nameBytes(e).toString('latin1'), e]));
    for (const after of await entries(b)) {
      if (out.length > limit) return;
      const key = nameBytes(after).toString('latin1');
      const old = before.get(key);
      before.delete(key);
      if (old && old.oid === after.oid && old.mode === after.mode) continue;
      const path = join(prefix, after);
      const [oldTree, newTree] = [old && isTree(old), isTree(after)];
      if (old && !oldTree && !newTree) out.push(path);
      else {
        if (old && !oldTree) out.push(path);
        if (!newTree) out.push(path);
        await walk(oldTree ? old!.oid : undefined, newTree ? after.oid : undefined, path);
      }
    }
    for (const gone of before.values()) {
      if (out.length > limit) return;
      if (isTree(gone)) await walk(gone.oid, undefined, join(prefix, gone));
      else out.push(join(prefix, gone));
    }
  };
  await walk(from, to, Buffer.alloc(0));
  return out;
}
