// History's copy of the index: the file's records (kept current by syncs) loaded once, then caught up with the
// branch head in memory before each query, so the answers are those of the commits git has now. When the head is
// further from every indexed commit than a query should wait for, there is no index and History walks instead.
import { serialQueue } from '../util/serial.ts';
import { HistoryIndex } from './history-index.ts';
import { deepened, indexable, missingCommits, recordsFor } from './index-build.ts';
import { fileStamp, loadIndexFile } from './index-file.ts';
import type { GitReader } from './reader.ts';

/** Commits a query catches up at most (a few ms each); a sync's housekeeping adds the rest to the file. */
const MAX_CATCH_UP = 2_000;

export class IndexSource {
  private readonly reader: GitReader;
  private index?: HistoryIndex;
  private stamp = '';
  /** The head (and file stamp) found too far from the index: queries walk without looking again until either moves. */
  private tooFar = '';
  private readonly queue = serialQueue();
  constructor(reader: GitReader) {
    this.reader = reader;
  }

  /** The index up to the branch head, or undefined (no head, grafts or replaced commits, or too far behind). */
  current(): Promise<HistoryIndex | undefined> {
    return this.queue(() => this.catchUp());
  }

  private async catchUp(): Promise<HistoryIndex | undefined> {
    const gitdir = this.reader.repo.gitdir;
    const head = await this.reader.repo.head();
    if (!head || !indexable(gitdir)) return undefined;
    if (this.index?.tip === head) return this.index;
    if (this.tooFar === `${head} ${fileStamp(gitdir)}`) return undefined;
    for (const reload of [false, true]) {
      if (!this.index || reload) {
        if (reload && fileStamp(gitdir) === this.stamp) break; // nothing newer on disk to start from
        ({ index: this.index, stamp: this.stamp } = loadIndexFile(gitdir));
      }
      if (await deepened(this.reader, this.index.cutAt)) this.index = new HistoryIndex();
      const index = this.index;
      const missing = await missingCommits(this.reader, head, (oid) => index.position(oid) !== undefined, MAX_CATCH_UP);
      if (!missing) continue;
      const records = await recordsFor(this.reader, missing.commits, missing.joined);
      index.truncate(missing.joined ? index.position(missing.joined)! + 1 : 0);
      for (const r of records) index.add(r);
      return index;
    }
    this.tooFar = `${head} ${this.stamp}`;
    return undefined;
  }
}
