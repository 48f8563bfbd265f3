// Gathers, during one sync, what attribution needs about the objects whose blob changed (their managedFields,
// read before they are dropped), and attributes them once the previous versions can be read from the repository.
import { parse } from 'yaml';
import type { FileMap } from '../store/repo.ts';
import { attributeChange, UNKNOWN, type Attribution } from './managed-fields.ts';

/** Changed objects held until the end of the listing (rendered bytes + managedFields); beyond it: `unknown`. */
const MAX_PENDING_CHANGED = 1000;
/** Attributions kept per sync: a first sync of a large cluster adds every object. Beyond it: `unknown`. */
const MAX_ATTRIBUTED = 10_000;

export class AttributionCollector {
  private readonly done = new Map<string, Attribution>();
  private readonly pending = new Map<string, { bytes: Buffer; managedFields: unknown }>();
  private readonly before: FileMap;

  constructor(before: FileMap) {
    this.before = before;
  }

  /** One object as rendered: `recorded` is what its file holds (parsed), `bytes`/`oid` the file itself. */
  saw(path: string, managedFields: unknown, recorded: unknown, bytes: Buffer, oid: string): void {
    const previous = this.before.get(path);
    if (previous === oid) return;
    this.done.delete(path);
    this.pending.delete(path);
    if (previous === undefined) {
      if (this.done.size < MAX_ATTRIBUTED) this.done.set(path, attributeChange(undefined, recorded, managedFields, undefined));
    } else if (this.pending.size < MAX_PENDING_CHANGED) {
      this.pending.set(path, { bytes, managedFields });
    }
  }

  /**
   * Attribution for each added or changed path (deletions cannot be attributed from managedFields). `since` (ms)
   * is when the previous versions were read, if known: without it a changed object is `unknown`.
   */
  async attribute(changes: { added: string[]; changed: string[] }, readBlob: (oid: string) => Promise<Uint8Array>, since: number | undefined): Promise<Map<string, Attribution>> {
    const out = new Map<string, Attribution>();
    for (const path of changes.added) out.set(path, this.done.get(path) ?? UNKNOWN);
    for (const path of changes.changed) {
      const seen = this.pending.get(path);
      const previous = this.before.get(path);
      if (!seen || !previous || since === undefined) {
        out.set(path, UNKNOWN);
        continue;
      }
      const [before, after] = [parse(Buffer.from(await readBlob(previous)).toString('utf8')), parse(seen.bytes.toString('utf8'))];
      out.set(path, attributeChange(before, after, seen.managedFields, since));
    }
    this.pending.clear();
    this.done.clear();
    return out;
  }
}
