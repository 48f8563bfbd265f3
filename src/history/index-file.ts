// The history index on disk (<gitdir>/kubetrail/history-index): kept current by each sync's housekeeping under the
// repository lock, read by History at start. Appending needs only the last records, so a sync's cost does not grow
// with the history; when the branch moved to another line (a push re-applied the run's commits on a newer remote
// head) the file is cut back to the newest commit still on the branch and continued from there.
import { closeSync, ftruncateSync, fstatSync, mkdirSync, openSync, readFileSync, readSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Repo } from '../store/repo.ts';
import { HistoryIndex } from './history-index.ts';
import { deepened, indexable, missingCommits, recordsFor } from './index-build.ts';
import { type ByteSource, decodeLastRecord, decodeRecords, encodeRecord, loadRecords, MAGIC } from './index-format.ts';
import type { GitReader } from './reader.ts';

export const indexFile = (gitdir: string) => join(gitdir, 'kubetrail', 'history-index');
/** The file's stamp after the last update: when it differs, someone else wrote it and it is checked whole. */
const writtenStamp = (gitdir: string) => join(gitdir, 'kubetrail', 'history-index.written');

/** Commits one housekeeping adds at most: a long history without an index is covered over a few runs. */
const MAX_NEW = 5_000;
/** Commits whose records are written at once. */
const CHUNK = 200;
/** How many of the newest records are read to find where the branch left the indexed line. */
const TAIL_RECORDS = 64;

/** What the file holds, read whole into an in-memory index; an empty index when it is missing or unreadable. */
export function loadIndexFile(gitdir: string): { index: HistoryIndex; stamp: string } {
  let index = new HistoryIndex();
  let stamp = '';
  try {
    const fd = openSync(indexFile(gitdir), 'r');
    try {
      stamp = fileStamp(gitdir);
      const source = fileSource(fd);
      // A guess at the sizes (a change takes ≥ 42 bytes, most ~60; a commit with its 1-20 changes ~400 or more).
      index = new HistoryIndex({ changes: Math.ceil(source.size / 60), commits: Math.ceil(source.size / 400) });
      loadRecords(source, index);
      index.trim();
    } finally {
      closeSync(fd);
    }
  } catch {
    // Missing or unreadable: a cache, rebuilt from git.
  }
  return { index, stamp };
}

const readText = (file: string) => {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
};

/** Changes whenever the file is written. */
export function fileStamp(gitdir: string): string {
  try {
    const s = statSync(indexFile(gitdir));
    return `${s.size} ${s.mtimeMs} ${s.ino}`;
  } catch {
    return '';
  }
}

/** The newest records (newest first) and where each ends, read backwards from the end of the file. */
function tailRecords(fd: number): { oid: string; end: number }[] {
  const size = fstatSync(fd).size;
  const take = Math.min(size, 256 << 10); // 64 records of a few changes each fit many times over
  const buf = Buffer.alloc(take);
  readSync(fd, buf, 0, take, size - take);
  const base = size - take;
  const out: { oid: string; end: number }[] = [];
  let end = take;
  while (out.length < TAIL_RECORDS) {
    const last = decodeLastRecord(buf, end, base === 0 ? MAGIC.length : 0);
    if (!last) break;
    out.push({ oid: last.record.oid, end: base + end });
    end = last.start;
  }
  return out;
}

const fileSource = (fd: number): ByteSource => ({ size: fstatSync(fd).size, read: (into, at, length, position) => readSync(fd, into, at, length, position) });

/** Where each valid record of the whole file ends, by commit (the slow path: the branch left the newest records). */
function allRecordEnds(fd: number): Map<string, number> {
  return new Map(Array.from(decodeRecords(fileSource(fd)), ({ record, end }) => [record.oid, end]));
}

/**
 * The first record's parent: set when history was cut there (see HistoryIndex.cutAt). Read from its header alone
 * (the first record of a repository's first sync lists every object: decoding it would cost each run).
 */
function firstRecordParent(fd: number): string | undefined {
  const header = Buffer.alloc(44);
  if (readSync(fd, header, 0, 44, MAGIC.length) < 44) return undefined;
  const parent = header.toString('hex', 24, 44);
  return /^0+$/.test(parent) ? undefined : parent;
}

export interface IndexFileUpdate { added: number; remaining: number }

/**
 * Brings the file up to the branch head: at most `maxNewCommits` of the commits it lacks, oldest first. The caller
 * holds the repository lock (one writer). A torn or damaged tail is cut off; a file that is not an index is replaced.
 */
export async function updateIndexFile(repo: Repo, reader: GitReader, o: { maxNewCommits?: number } = {}): Promise<IndexFileUpdate> {
  const head = await repo.head();
  if (!head || !indexable(repo.gitdir)) return { added: 0, remaining: 0 };
  mkdirSync(join(repo.gitdir, 'kubetrail'), { recursive: true });
  const fd = openSync(indexFile(repo.gitdir), 'a+');
  try {
    const magic = Buffer.alloc(MAGIC.length);
    const valid = readSync(fd, magic, 0, MAGIC.length, 0) === MAGIC.length && magic.equals(MAGIC)
      && !await deepened(reader, firstRecordParent(fd)); // what was cut is here now: built again
    const ours = valid && readText(writtenStamp(repo.gitdir)) === fileStamp(repo.gitdir);
    let ends = valid ? (ours ? new Map(tailRecords(fd).map((r) => [r.oid, r.end])) : allRecordEnds(fd)) : new Map<string, number>();
    if (ends.has(head) && ours) return { added: 0, remaining: 0 };
    let missing = await missingCommits(reader, head, (oid) => ends.has(oid));
    if (ours && !missing!.joined && fstatSync(fd).size > MAGIC.length) {
      ends = allRecordEnds(fd);
      missing = await missingCommits(reader, head, (oid) => ends.has(oid));
    }
    const { commits, joined } = missing!;
    const adding = commits.slice(0, o.maxNewCommits ?? MAX_NEW);
    const write = (b: Buffer) => {
      for (let done = 0; done < b.length;) done += writeSync(fd, b, done);
    };
    if (joined) ftruncateSync(fd, ends.get(joined)!);
    else {
      ftruncateSync(fd, 0);
      write(MAGIC);
    }
    // 'a+' appends at the end whatever the position. In chunks: memory stays bounded, and a run killed meanwhile
    // leaves whole records for the next to continue from.
    for (let i = 0; i < adding.length; i += CHUNK) {
      write(Buffer.concat((await recordsFor(reader, adding.slice(i, i + CHUNK), i ? adding[i - 1] : joined)).map(encodeRecord)));
    }
    writeFileSync(writtenStamp(repo.gitdir), fileStamp(repo.gitdir));
    return { added: adding.length, remaining: commits.length - adding.length };
  } finally {
    closeSync(fd);
  }
}
