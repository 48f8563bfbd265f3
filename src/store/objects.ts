// Git object encoding and crash-safe loose-object writes.
// isomorphic-git writes loose objects in place and never overwrites one, so a kill mid-write would leave a
// corrupt object forever; here every object goes to a temp file first, is fsynced and renamed into place, as
// git does with core.fsync=loose-object.
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { deflateSync, inflateSync } from 'node:zlib';
import { fsyncDir } from './atomic-write.ts';

export type ObjectType = 'blob' | 'tree' | 'commit';

/**
 * A tree entry. `mode` as git writes it ('100644', '100755', '120000', '160000'; a subtree as '40000' or
 * '040000'); `name` as a Buffer keeps bytes that are not UTF-8 exactly as they were.
 */
export interface TreeEntry { mode: string; name: string | Buffer; oid: string }

const isTreeMode = (mode: string) => mode === '40000' || mode === '040000';

/**
 * zlib at level 1: git reads any level, and speed matters more here than a few percent of size. The output
 * buffer is sized to the input, not node's default 16 KiB per call, whose slices would each pin 16 KiB.
 * The window and hash are sized to the input too (git inflates any window size): zlib's defaults allocate
 * ~260 KiB per stream, which glibc hands back to the system after each object and faults in again.
 */
export function deflate(data: Uint8Array): Buffer {
  const windowBits = Math.max(9, Math.min(15, Math.ceil(Math.log2(data.length + 1))));
  return deflateSync(data, { level: 1, windowBits, memLevel: windowBits - 7, chunkSize: Math.max(64, Math.min(16384, data.length + 64)) });
}

const objectHeader = (type: ObjectType, size: number) => `${type} ${size}\0`;

/** A git object's id: the SHA-1 of its header and content (hashed in two parts: no copy of the content). */
export function objectId(type: ObjectType, content: Uint8Array): string {
  return createHash('sha1').update(objectHeader(type, content.length)).update(content).digest('hex');
}

/** Git orders tree entries by name bytes, comparing a subtree's name as if it ended in `/`. */
export function encodeTree(entries: TreeEntry[]): Buffer {
  const sorted = entries.map((e) => {
    const name = typeof e.name === 'string' ? Buffer.from(e.name) : e.name;
    return { ...e, name, key: isTreeMode(e.mode) ? Buffer.concat([name, Buffer.from('/')]) : name };
  }).sort((a, b) => Buffer.compare(a.key, b.key));
  return Buffer.concat(sorted.flatMap((e) => [
    Buffer.from(`${isTreeMode(e.mode) ? '40000' : e.mode} `, 'latin1'), e.name, Buffer.from([0]), Buffer.from(e.oid, 'hex'),
  ]));
}

/** A tree's entries with their mode and name bytes exactly as stored: re-encoding them gives the same tree. */
export function parseTreeRaw(content: Buffer): TreeEntry[] {
  const entries: TreeEntry[] = [];
  for (let at = 0; at < content.length;) {
    const space = content.indexOf(32, at);
    const nul = content.indexOf(0, space);
    entries.push({ mode: content.toString('latin1', at, space), name: Buffer.from(content.subarray(space + 1, nul)), oid: content.toString('hex', nul + 1, nul + 21) });
    at = nul + 21;
  }
  return entries;
}

/** Parses a tree object's content, as isomorphic-git's readTree reports it. */
export function parseTree(content: Buffer): { mode: string; path: string; oid: string; type: string }[] {
  const entries = [];
  for (let at = 0; at < content.length;) {
    const space = content.indexOf(32, at);
    const nul = content.indexOf(0, space);
    const mode = content.toString('latin1', at, space);
    entries.push({
      mode: mode === '40000' ? '040000' : mode,
      path: content.toString('utf8', space + 1, nul),
      oid: content.toString('hex', nul + 1, nul + 21),
      type: mode === '40000' ? 'tree' : mode === '160000' ? 'commit' : 'blob',
    });
    at = nul + 21;
  }
  return entries;
}

export interface Signature { name: string; email: string; timestamp: number; timezoneOffset?: number }

function formatSignature(s: Signature): string {
  const offset = -(s.timezoneOffset ?? 0); // minutes east of UTC
  const sign = offset < 0 ? '-' : '+';
  const abs = Math.abs(offset);
  const tz = `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}${String(abs % 60).padStart(2, '0')}`;
  return `${s.name} <${s.email}> ${s.timestamp} ${tz}`;
}

export function encodeCommit(c: { tree: string; parents: string[]; author: Signature; committer: Signature; message: string }): Buffer {
  const lines = [`tree ${c.tree}`, ...c.parents.map((p) => `parent ${p}`),
    `author ${formatSignature(c.author)}`, `committer ${formatSignature(c.committer)}`, '', c.message];
  return Buffer.from(lines.join('\n'));
}

/** A loose object file's type and content; undefined when it is missing, unreadable or its size is wrong. */
export function readLooseObject(file: string): { type: string; content: Buffer } | undefined {
  let raw: Buffer;
  try {
    raw = inflateSync(readFileSync(file));
  } catch {
    return undefined;
  }
  const nul = raw.indexOf(0);
  const [type, size] = raw.toString('latin1', 0, Math.max(nul, 0)).split(' ');
  const content = raw.subarray(nul + 1);
  return nul > 0 && Number(size) === content.length ? { type, content } : undefined;
}

export interface ParsedCommit {
  tree: string;
  parents: string[];
  author: { name: string; email: string; timestamp: number; timezoneOffset: number };
  /** Who made the commit and when (for a replayed commit: when it was re-made on the remote head). */
  committer: { name: string; email: string; timestamp: number; timezoneOffset: number };
  message: string;
}

/**
 * Reads a commit as isomorphic-git's readCommit does (the parts kubetrail uses): `tree` first and the `parent`
 * lines right after it, by position as git reads them; the first `author`; the message with carriage returns
 * and leading newlines dropped and exactly one newline at the end.
 */
export function parseCommit(content: Buffer): ParsedCommit {
  const text = content.toString('utf8');
  const blank = text.indexOf('\n\n');
  const headers: string[] = [];
  for (const line of text.slice(0, blank).split('\n')) {
    if (line.startsWith(' ') && headers.length) headers[headers.length - 1] += `\n${line.slice(1)}`; // continued (gpgsig)
    else headers.push(line);
  }
  const key = (h: string) => h.slice(0, h.indexOf(' '));
  const value = (h: string) => h.slice(h.indexOf(' ') + 1);
  if (key(headers[0] ?? '') !== 'tree') throw new Error('commit: tree is not the first header');
  const parents: string[] = [];
  for (let i = 1; i < headers.length && key(headers[i]) === 'parent'; i++) parents.push(value(headers[i]));
  const author = parseSignature(headers.find((h) => key(h) === 'author'), 'author');
  const committer = parseSignature(headers.find((h) => key(h) === 'committer'), 'committer');
  const message = text.slice(blank + 2).replace(/\r/g, '').replace(/^\n+/, '').replace(/\n+$/, '') + '\n';
  return { tree: value(headers[0]), parents, author, committer, message };
}

function parseSignature(header: string | undefined, what: string): ParsedCommit['author'] {
  const [, name, email, timestamp, zone] = (header ?? '').slice(what.length + 1).match(/^(.*) <(.*)> (.*) (.*)$/) ?? [];
  if (name === undefined) throw new Error(`commit: no ${what}`);
  const [, sign, hours, minutes] = zone.match(/(\+|-)(\d\d)(\d\d)/) ?? ['', '+', '0', '0'];
  const east = (sign === '+' ? 1 : -1) * (Number(hours) * 60 + Number(minutes));
  return { name, email, timestamp: Number(timestamp), timezoneOffset: east === 0 ? 0 : -east };
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
    const data = deflate(Buffer.concat([Buffer.from(objectHeader(type, content.length)), content]));
    const fd = openSync(tmp, 'wx');
    try {
      for (let done = 0; done < data.length;) done += writeSync(fd, data, done);
      // Durable before it has its name: a name with no data after a power loss would be taken as stored.
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, `${dir}/${oid.slice(2)}`);
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
