// Loose objects into one pack, as `git gc --auto` does. Each sync that changes little leaves a few dozen loose
// files (blobs, trees, a commit); a daemon syncing every few minutes piles up thousands a day, and in a container
// without git nothing else packs them.
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { objectId, type ObjectType } from './codec.ts';
import { readLooseObject } from './loose.ts';
import { failpoint } from './failpoint.ts';
import { PackWriter } from './pack.ts';

/** Git's default for gc.auto: pack once there are about this many loose objects. */
export const LOOSE_OBJECTS_LIMIT = 6700;

const isPackable = (type: string): type is ObjectType => type === 'blob' || type === 'tree' || type === 'commit';
const isObjectFile = (name: string) => /^[0-9a-f]{38}$/.test(name); // not a temp file of a write in progress

/** About how many loose objects there are, estimated as git does: those in objects/17, times 256. */
export function estimateLooseObjects(gitdir: string): number {
  const dir = join(gitdir, 'objects', '17');
  return existsSync(dir) ? readdirSync(dir).filter(isObjectFile).length * 256 : 0;
}

/**
 * Moves the loose objects into one new pack when there are about `limit` or more; returns how many it moved.
 * The pack and its index are in place before any loose file goes, so a reader finds every object at any moment
 * and a kill at any point loses nothing. An object that does not read back as itself is left where it is.
 * Call with the repository lock held: nothing else may write objects meanwhile.
 */
export function packLooseObjects(gitdir: string, limit = LOOSE_OBJECTS_LIMIT): number {
  if (estimateLooseObjects(gitdir) < limit) return 0;
  const objects = join(gitdir, 'objects');
  const pack = new PackWriter(gitdir);
  const packed: string[] = [];
  try {
    for (const fanout of readdirSync(objects).filter((d) => /^[0-9a-f]{2}$/.test(d))) {
      for (const name of readdirSync(join(objects, fanout)).filter(isObjectFile)) {
        const file = join(objects, fanout, name);
        const object = readLooseObject(file);
        if (!object || !isPackable(object.type) || objectId(object.type, object.content) !== fanout + name) continue;
        pack.add(object.type, object.content, fanout + name);
        packed.push(file);
      }
    }
    pack.finish()?.close(); // pack and index durable (fsynced, renamed, directory synced) before any loose copy goes
  } catch (e) {
    pack.abort();
    throw e;
  }
  failpoint('maintenance-packed');
  for (const file of packed) {
    rmSync(file, { force: true });
    failpoint('maintenance-deleting');
  }
  return packed.length;
}
