// Who made which write, from the apiserver's audit webhook: kept in memory for a bounded time and number of
// events, so a sync can name the person behind a change. Only exact matches count: the object's resourceVersion
// as the sync read it equals the one the write returned (for a deletion: the uid of the object deleted).
//
// Metadata-level events carry no resourceVersion (checked on v1.37: no responseObject, objectRef has none), so
// the shipped policy (config/audit/policy.yaml) sends writes at RequestResponse level; of the response only its
// metadata is kept here, the rest is dropped as the event is read.

/** Who made a write, as the apiserver authenticated it. */
export interface Writer {
  username: string;
  groups: string[];
  /** The user the request impersonated, when it did: the write was made as this user by `username`. */
  impersonated?: string;
  userAgent?: string;
  time: string;
  verb: string;
}

export interface AuditLimits { retentionMs: number; maxEvents: number }

export const DEFAULT_AUDIT_LIMITS: AuditLimits = { retentionMs: 15 * 60_000, maxEvents: 50_000 };

const WRITES = new Set(['create', 'update', 'patch', 'delete']);

type Raw = Record<string, any>;
const isMap = (v: unknown): v is Raw => v !== null && typeof v === 'object' && !Array.isArray(v);

/** The object a write touched: `apiGroup` '' for core, `resource` the plural as in the URL. */
export interface ObjectKey { group: string; resource: string; namespace?: string; name: string }

const keyOf = (k: ObjectKey) => `${k.group}/${k.resource}/${k.namespace ?? ''}/${k.name}`;

interface Entry { at: number; writer: Writer; resourceVersion?: string; uid?: string }

export class AuditLog {
  // Per cluster, per object: its writes, oldest first. Map order is insertion order: eviction walks it oldest first.
  private readonly byCluster = new Map<string, Map<string, Entry[]>>();
  private readonly queue: { cluster: string; key: string; entry: Entry }[] = [];
  private head = 0;
  private readonly limits: AuditLimits;
  private readonly now: () => number;

  constructor(limits: AuditLimits = DEFAULT_AUDIT_LIMITS, now = () => Date.now()) {
    this.limits = limits;
    this.now = now;
  }

  /** Events held now. */
  get size(): number {
    return this.queue.length - this.head;
  }

  /**
   * Takes an `audit.k8s.io/v1` EventList for one cluster. Returns how many write events were kept; anything else
   * (reads, failed writes, earlier stages) is skipped. Throws on a body that is not an EventList.
   */
  add(cluster: string, body: unknown): number {
    if (!isMap(body) || body.kind !== 'EventList' || !/^audit\.k8s\.io\//.test(String(body.apiVersion)) || !Array.isArray(body.items)) {
      throw new TypeError('the body must be an audit.k8s.io/v1 EventList');
    }
    let kept = 0;
    for (const e of body.items as unknown[]) {
      const write = writeOf(e);
      if (!write) continue;
      const entry: Entry = { at: this.now(), writer: write.writer, resourceVersion: write.resourceVersion, uid: write.uid };
      const key = keyOf(write.object);
      let objects = this.byCluster.get(cluster);
      if (!objects) this.byCluster.set(cluster, objects = new Map());
      let list = objects.get(key);
      if (!list) objects.set(key, list = []);
      list.push(entry);
      this.queue.push({ cluster, key, entry });
      kept++;
    }
    this.evict();
    return kept;
  }

  /** The write that produced this resourceVersion of the object, if one was heard. */
  writerOf(cluster: string, object: ObjectKey, resourceVersion: string): Writer | undefined {
    this.evict();
    return this.byCluster.get(cluster)?.get(keyOf(object))?.findLast((e) => e.resourceVersion === resourceVersion && e.writer.verb !== 'delete')?.writer;
  }

  /** The deletion of the object with this uid, if one was heard. */
  deleterOf(cluster: string, object: ObjectKey, uid: string): Writer | undefined {
    this.evict();
    return this.byCluster.get(cluster)?.get(keyOf(object))?.findLast((e) => e.uid === uid && e.writer.verb === 'delete')?.writer;
  }

  private evict(): void {
    const oldest = this.now() - this.limits.retentionMs;
    while (this.size > 0 && (this.size > this.limits.maxEvents || this.queue[this.head].entry.at < oldest)) {
      const { cluster, key, entry } = this.queue[this.head++];
      const objects = this.byCluster.get(cluster)!;
      const list = objects.get(key)!;
      list.splice(list.indexOf(entry), 1);
      if (!list.length) objects.delete(key);
    }
    if (this.head > 1024 && this.head * 2 > this.queue.length) this.queue.splice(0, this.head), this.head = 0;
  }
}

/** A successful write of a named object, reduced to what matching needs; undefined for anything else. */
function writeOf(e: unknown): { object: ObjectKey; writer: Writer; resourceVersion?: string; uid?: string } | undefined {
  if (!isMap(e) || e.stage !== 'ResponseComplete' || !WRITES.has(e.verb) || !isMap(e.objectRef) || !isMap(e.user)) return undefined;
  const code = e.responseStatus?.code;
  if (typeof code === 'number' && (code < 200 || code > 299)) return undefined;
  const ref = e.objectRef;
  if (typeof ref.name !== 'string' || !ref.name || typeof ref.resource !== 'string' || ref.subresource === 'status') return undefined;
  if (typeof e.user.username !== 'string') return undefined;
  const response = isMap(e.responseObject) ? e.responseObject : undefined;
  // A write returns the object; a deletion returns it too, or a Status whose details name its uid.
  const meta = isMap(response?.metadata) ? response.metadata : undefined;
  const uid = typeof meta?.uid === 'string' ? meta.uid : typeof response?.details?.uid === 'string' ? response.details.uid : undefined;
  const resourceVersion = response?.kind !== 'Status' && typeof meta?.resourceVersion === 'string' ? meta.resourceVersion : undefined;
  const impersonated = isMap(e.impersonatedUser) && typeof e.impersonatedUser.username === 'string' ? e.impersonatedUser.username : undefined;
  return {
    object: { group: typeof ref.apiGroup === 'string' ? ref.apiGroup : '', resource: ref.resource, namespace: typeof ref.namespace === 'string' ? ref.namespace : undefined, name: ref.name },
    writer: {
      username: e.user.username,
      groups: Array.isArray(e.user.groups) ? e.user.groups.filter((g: unknown) => typeof g === 'string') : [],
      ...(impersonated ? { impersonated } : {}),
      ...(typeof e.userAgent === 'string' ? { userAgent: e.userAgent } : {}),
      time: typeof e.stageTimestamp === 'string' ? e.stageTimestamp : '',
      verb: e.verb,
    },
    resourceVersion, uid,
  };
}

/** `alice (kubectl/v1.37.2)`, or `admin as alice (…)` for an impersonated write: a commit trailer's "who". */
export function describeWriter(w: Writer): string {
  const agent = w.userAgent?.split(' ')[0];
  const who = w.impersonated ? `${w.username} as ${w.impersonated}` : w.username;
  return `${who.replace(/[\r\n]+/g, ' ')}${agent ? ` (${agent.replace(/[()\r\n]/g, '')})` : ''}`;
}
