// Housekeeping as `git gc --auto` and `git repack --geometric` do it, for containers without git. Each sync that
// changes little leaves a few dozen loose files (blobs, trees, a commit), and each fetch of a daemon that loses a
// push race leaves a small pack: thousands of files and hundreds of packs a month, each pack an index every read
// may search and (measured, bench/README.md) native memory that grows with their number.
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { objectId, type ObjectType } from './codec.ts';
import { readLooseObject } from './loose.ts';
import { failpoint } from './failpoint.ts';
import { PackWriter } from './pack.ts';
import { IndexedPack } from './pack-reader.ts';

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

/** Packs kept at most after housekeeping; a run's few fetches add to them before the next one (issue 21: ≤ 20). */
export const PACKS_LIMIT = 16;

/**
 * Which packs to merge, by index into `counts` (their object counts): none while there are at most `limit`.
 * Else the smallest, enough of them to come back to half the limit (so merges come every few fetches, not after
 * each), then, as `git repack --geometric=2` does, each next pack smaller than twice what is merged so far: a
 * pack is rewritten only into one at least half again its size, so an object is rewritten O(log n) times.
 */
export function packsToMerge(counts: number[], limit = PACKS_LIMIT): number[] {
  if (counts.length <= limit) return [];
  const order = counts.map((_, i) => i).sort((a, b) => counts[a] - counts[b]);
  let take = Math.min(order.length, order.length - Math.max(1, Math.floor(limit / 2)) + 1);
  let total = order.slice(0, take).reduce((sum, i) => sum + counts[i], 0);
  while (take < order.length && counts[order[take]] < 2 * total) total += counts[order[take++]];
  return order.slice(0, take);
}

// Packs of others that must stay as they are: .keep (a git fetch or receive-pack holds it until its refs are
// written; a person's choice otherwise), .promisor (partial clones), .mtimes (cruft packs of unreachable objects).
const HELD = ['.keep', '.promisor', '.mtimes'];
// What git writes beside a pack; the index goes first, so no reader finds the index of a missing pack.
const PACK_FILES = ['.idx', '.pack', '.rev', '.bitmap'];

/**
 * Merges small packs into one when there are more than `limit`; returns how many packs it merged (0: none).
 * The new pack and its index are durable (fsynced, renamed, directory synced) before any old pack goes, and only
 * packs listed, verified and copied whole are removed: a pack written meanwhile (a concurrent fetch, a git CLI
 * neighbour) is not in the listing, a held one is not merged. An object stored whole is copied as it is stored
 * (its CRC checked, not inflated and deflated again: a watch merging 60k objects churned ~600 MB through memory);
 * a delta is written whole (PackWriter writes no deltas; what that costs in bytes: bench/README.md). Call with the
 * repository lock held.
 */
export function mergePacks(gitdir: string, limit = PACKS_LIMIT): number {
  const dir = join(gitdir, 'objects', 'pack');
  const names = new Set(existsSync(dir) ? readdirSync(dir) : []);
  // Opening (and checking) every pack costs a read of each: only when there are more than `limit` to choose from.
  if ([...names].filter((n) => n.endsWith('.idx')).length <= limit) return 0;
  const packs: { name: string; pack: IndexedPack }[] = [];
  for (const idx of names) {
    const name = /^(pack-[0-9a-f]{40})\.idx$/.exec(idx)?.[1];
    if (!name || !names.has(`${name}.pack`) || HELD.some((ext) => names.has(name + ext))) continue;
    const pack = IndexedPack.open(join(dir, idx));
    if (pack?.verify()) packs.push({ name, pack });
    else pack?.close();
  }
  try {
    const chosen = packsToMerge(packs.map((p) => p.pack.objectCount), limit).map((i) => packs[i]);
    if (chosen.length < 2) return 0;
    const writer = new PackWriter(gitdir);
    let merged: string;
    try {
      for (const { pack } of chosen) {
        for (const object of pack.packed()) {
          if (writer.has(object.oid)) continue;
          if ('raw' in object) writer.addPacked(object.oid, object.raw, object.crc); // copied as stored (CRC checked)
          else if (objectId(object.type, object.content) !== object.oid) throw new Error(`${object.oid} does not read back as itself`);
          else writer.add(object.type, object.content, object.oid);
        }
        failpoint('merge-writing');
      }
      const written = writer.finish(); // undefined: the packs held no objects at all
      written?.close();
      merged = written ? basename(written.file, '.pack') : '';
    } catch (e) {
      writer.abort();
      throw e;
    }
    failpoint('merge-packed');
    for (const { name } of chosen) {
      // The same objects in the same order make the same pack name: that one is the merge itself.
      if (name === merged) continue;
      for (const ext of PACK_FILES) rmSync(join(dir, name + ext), { force: true });
      failpoint('merge-deleting');
    }
    return chosen.length;
  } finally {
    for (const { pack } of packs) pack.close();
  }
}

/** The housekeeping of a run, under its lock: loose objects packed, then packs merged. */
export function maintainRepository(gitdir: string): { looseObjectsPacked: number; packsMerged: number } {
  const looseObjectsPacked = packLooseObjects(gitdir);
  return { looseObjectsPacked, packsMerged: mergePacks(gitdir) };
}
