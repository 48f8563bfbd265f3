// Gathers, during one sync, what attribution needs about the objects whose blob changed (their managedFields,
// read before they are dropped; their resourceVersion and uid for the audit log), and attributes them once the
// previous versions can be read from the repository.
import { parseYaml } from '../snapshot/parse.ts';
import type { AuditLog, ObjectKey, Writer } from '../audit/audit-log.ts';
import type { KubeObject } from '../model/kube-object.ts';
import type { FileMap } from '../store/repo.ts';
import { attributeChange, UNKNOWN, type Attribution } from './managed-fields.ts';

/** Changed objects held until the end of the listing (rendered bytes + managedFields); beyond it: `unknown`. */
const MAX_PENDING_CHANGED = 1000;
/** Attributions kept per sync: a first sync of a large cluster adds every object. Beyond it: `unknown`. */
const MAX_ATTRIBUTED = 10_000;

/** Where a type's writes show in the audit log: its API group ('' for core) and plural resource name. */
export interface TypeKey { group: string; resource: string }

interface Seen { bytes?: Buffer; managedFields: unknown; object: ObjectKey; resourceVersion?: string }

export class AttributionCollector {
  private readonly done = new Map<string, Attribution>();
  private readonly pending = new Map<string, Seen>();
  private readonly before: FileMap;
  private readonly audit?: { log: AuditLog; cluster: string };

  constructor(before: FileMap, audit?: { log: AuditLog; cluster: string }) {
    this.before = before;
    this.audit = audit;
  }

  /** One object as read (`obj`, with its managedFields) and rendered: `recorded` parsed, `bytes`/`oid` its file. */
  saw(path: string, type: TypeKey, obj: KubeObject, recorded: unknown, bytes: Buffer, oid: string): void {
    const previous = this.before.get(path);
    if (previous === oid) return;
    this.done.delete(path);
    this.pending.delete(path);
    const meta = obj.metadata ?? {};
    const rv = typeof meta.resourceVersion === 'string' ? meta.resourceVersion : undefined;
    const object = { ...type, namespace: meta.namespace, name: meta.name ?? '' };
    if (previous === undefined) {
      if (this.done.size >= MAX_ATTRIBUTED) return;
      this.done.set(path, { ...attributeChange(undefined, recorded, meta.managedFields, undefined), ...this.changedBy(object, rv) });
    } else if (this.pending.size < MAX_PENDING_CHANGED) {
      this.pending.set(path, { bytes, managedFields: meta.managedFields, object, resourceVersion: rv });
    }
  }

  /**
   * Attribution for each added, changed and deleted path. `since` (ms) is when the previous versions were read,
   * if known: without it a changed object's managers are `unknown`. A deletion has no managedFields: only the
   * audit log can name who made it.
   */
  async attribute(
    changes: { added: string[]; changed: string[]; deleted: string[] }, readBlob: (oid: string) => Promise<Uint8Array>,
    since: number | undefined, typeKeys: Map<string, TypeKey>,
  ): Promise<Map<string, Attribution>> {
    const read = async (oid: string) => parseYaml(Buffer.from(await readBlob(oid)).toString('utf8')) as KubeObject;
    const out = new Map<string, Attribution>();
    for (const path of changes.added) out.set(path, this.done.get(path) ?? UNKNOWN);
    for (const path of changes.changed) {
      const seen = this.pending.get(path);
      const previous = this.before.get(path);
      if (!seen || !previous) {
        out.set(path, UNKNOWN);
        continue;
      }
      const managers = since === undefined ? UNKNOWN : attributeChange(await read(previous), parseYaml(seen.bytes!.toString('utf8')), seen.managedFields, since);
      out.set(path, { ...managers, ...this.changedBy(seen.object, seen.resourceVersion) });
    }
    for (const path of changes.deleted) {
      const type = typeKeys.get(path.slice(0, path.indexOf('/')));
      const previous = this.before.get(path);
      let deleter: Writer | undefined;
      if (this.audit && this.audit.log.size > 0 && type && previous) {
        const meta = (await read(previous))?.metadata;
        if (typeof meta?.uid === 'string' && meta.name) deleter = this.audit.log.deleterOf(this.audit.cluster, { ...type, namespace: meta.namespace, name: meta.name }, meta.uid);
      }
      out.set(path, deleter ? { ...UNKNOWN, changedBy: deleter } : UNKNOWN);
    }
    this.pending.clear();
    this.done.clear();
    return out;
  }

  private changedBy(object: ObjectKey, resourceVersion: string | undefined): { changedBy?: Writer } {
    const writer = this.audit && resourceVersion ? this.audit.log.writerOf(this.audit.cluster, object, resourceVersion) : undefined;
    return writer ? { changedBy: writer } : {};
  }
}
