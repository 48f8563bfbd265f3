// Crash-safe loose-object writes and reads (the bytes come from codec.ts).
// isomorphic-git writes loose objects in place and never overwrites one, so a kill mid-write would leave a
// corrupt object forever; here every object goes to a temp file first, is fsynced and renamed into place, as
// git does with core.fsync=loose-object.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { fsyncDir, writeDurably } from './atomic-write.ts';
import { decodeLooseObject, encodeLooseObject, objectId, type ObjectType } from './codec.ts';

/** A loose object file's type and content; undefined when it is missing, unreadable or its size is wrong. */
export function readLooseObject(file: string): { type: string; content: Buffer } | undefined {
  let deflated: Buffer;
  try {
    deflated = readFileSync(file);
  } catch {
    return undefined;
  }
  return decodeLooseObject(deflated);
}

/** Temp files of loose-object writes: ours carry our prefix; git's own `tmp_obj_*` are never touched. */
const TMP_PREFIX = 'tmp_obj_kubetrail_';
/** This process's temp files (a pid alone repeats: PID 1 in every container). */
const OWN_TMP = `${TMP_PREFIX}${process.pid}_${randomBytes(4).toString('hex')}_`;
/** A temp file of ours untouched this long is from a killed run (a live write takes milliseconds). */
export const STALE_TEMP_MS = 10_000;

export class ObjectWriter {
  readonly gitdir: string;
  /** The loose objects of each fan-out directory this writer has looked at: one readdir instead of a stat per object. */
  private readonly present = new Map<string, Set<string>>();
  /** Directories with renames not yet durable (see `sync`). */
  private readonly unsynced = new Set<string>();
  private tmpCount = 0;
  constructor(gitdir: string) {
    this.gitdir = gitdir;
  }

  /**
   * Writes the object unless `known` says it is already stored; returns its id. `stats.written` counts real writes.
   * Synchronous file calls on purpose: for thousands of small files they are several times faster than awaiting
   * one thread-pool round trip per call, and a sync is a batch job.
   */
  async write(type: ObjectType, content: Uint8Array, known?: (oid: string) => boolean, stats?: { written: number }): Promise<string> {
    const oid = objectId(type, content);
    if (known?.(oid) || this.has(oid)) return oid;
    this.writeLoose(type, content, oid);
    if (stats) stats.written++;
    return oid;
  }

  /** Whether the object is stored loose (as listed when this writer first looked at its fan-out directory). */
  has(oid: string): boolean {
    return this.presentIn(`${this.gitdir}/objects/${oid.slice(0, 2)}`).has(oid.slice(2));
  }

  writeLoose(type: ObjectType, content: Uint8Array, oid: string): void {
    const dir = `${this.gitdir}/objects/${oid.slice(0, 2)}`;
    const present = this.presentIn(dir);
    if (present.size === 0 && !existsSync(dir)) { // fan-out directories are made when first needed
      mkdirSync(dir, { recursive: true });
      this.unsynced.add(`${this.gitdir}/objects`);
    }
    // Written in objects/ itself and renamed into the fan-out directory: a killed write's temp file is found by
    // one listing (refresh), and git's count-objects does not see it as garbage meanwhile.
    const tmp = `${this.gitdir}/objects/${OWN_TMP}${this.tmpCount++}`;
    const data = encodeLooseObject(type, content);
    // Durable before it has its name: a name with no data after a power loss would be taken as stored.
    writeDurably(tmp, data);
    try {
      renameSync(tmp, `${dir}/${oid.slice(2)}`);
    } catch (e) {
      // `git repack -d` (prune-packed) removes fan-out directories it emptied, after this writer listed them.
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT' || !existsSync(tmp)) throw e;
      mkdirSync(dir, { recursive: true });
      this.unsynced.add(`${this.gitdir}/objects`);
      renameSync(tmp, `${dir}/${oid.slice(2)}`);
    }
    this.unsynced.add(dir);
    present.add(oid.slice(2));
  }

  /** Makes the names of the objects written so far durable: call before a ref names any of them. */
  sync(): void {
    // Fan-out directories first, then objects/ (which holds new fan-out directories).
    for (const dir of [...this.unsynced].sort().reverse()) fsyncDir(dir);
    this.unsynced.clear();
  }

  /**
   * Forgets what was listed. Called when a sync starts writing: a long-running daemon must not trust a listing
   * that `git gc` may have made stale since (objects packed, unreferenced ones pruned).
   */
  refresh(): void {
    this.present.clear();
    const objects = `${this.gitdir}/objects`;
    for (const name of existsSync(objects) ? readdirSync(objects) : []) if (name.startsWith(TMP_PREFIX)) removeStaleTemp(`${objects}/${name}`);
  }

  // Another process may add objects after the listing; the worst case is writing an identical object again.
  private presentIn(dir: string): Set<string> {
    let names = this.present.get(dir);
    if (!names) {
      names = new Set();
      for (const name of existsSync(dir) ? readdirSync(dir) : []) {
        if (name.startsWith(TMP_PREFIX)) removeStaleTemp(`${dir}/${name}`);
        else if (!name.startsWith('tmp_')) names.add(name); // git's own temp files are git's business
      }
      this.present.set(dir, names);
    }
    return names;
  }
}

/** Removes a temp file of a killed kubetrail write; a recent one, or one of this process, is left alone. */
function removeStaleTemp(file: string): void {
  if (file.slice(file.lastIndexOf('/') + 1).startsWith(OWN_TMP)) return;
  try {
    if (Date.now() - statSync(file).mtimeMs > STALE_TEMP_MS) rmSync(file, { force: true });
  } catch { /* gone meanwhile */ }
}
