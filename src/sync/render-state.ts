// Pure: the render cache as it travels with the remote (refs/kubetrail/state/<clusterId>), so a CronJob's empty
// volume reads metadata first too. A head text (a versioned header that binds it to one cluster, one set of render
// settings (fingerprint) and the cluster subtree it was made for, and a keyed digest of head and parts), and the
// entries in parts, each grouped and sorted by type (~85 bytes an object before git's zlib). An object's part
// follows from its uid alone, so a run that changed a few objects replaces a few parts of a few KiB, not the whole
// state (1 MB at 11k objects, sent with every push that changed anything). A state that does not match in every
// respect is ignored: it is only a cache, never trusted over the tree.
import { createHmac } from 'node:crypto';
import type { StateFiles } from '../store/state-ref.ts';

const MAGIC = 'kubetrail-render-state 2';
const ENTRIES_PER_PART = 64;
const MAX_PARTS = 256;

export interface StateHeader {
  cluster: string;
  /** RenderCache's fingerprint: FORMAT and the render settings. */
  fingerprint: string;
  /** The id of `clusters/<id>` in the branch commit the entries were checked against. */
  subtree: string;
  /** When the run that made the entries started reading the cluster (ms): the bound of attribution. */
  readAt?: number;
}

export type DecodedState = { entries: Map<string, string>; readAt?: number } | { ignored: string };

const plain = (s: string) => s.length > 0 && !/[\s]/.test(s);
const digest = (key: string, text: string) => createHmac('sha256', key).update(text).digest('hex');

/** How many parts `count` entries go in: a power of two, ~64 entries each, at most 256. */
export function partsFor(count: number): number {
  let n = 1;
  while (n < MAX_PARTS && n * ENTRIES_PER_PART < count) n *= 2;
  return n;
}

/** The part of an entry (`uid/resourceVersion`): FNV-1a of the uid, so a new resourceVersion stays in its part. */
function partOf(rest: string, parts: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < rest.length && rest.charCodeAt(i) !== 47 /* / */; i++) h = Math.imul(h ^ rest.charCodeAt(i), 0x01000193);
  return (h >>> 0) & (parts - 1);
}

/**
 * The state's files. `entries` are RenderCache keys (`type/uid/resourceVersion`) → blob ids; a key with a blank in
 * it is left out (it simply is not cached). `key` is the HMAC key: with the deployment's KUBETRAIL_HMAC_KEY set,
 * no one without it can make a state this run accepts; without one the digest still catches a hand edit.
 */
export function encodeState(header: StateHeader, entries: Iterable<[key: string, oid: string]>, key: string): StateFiles {
  const kept: [type: string, rest: string, oid: string][] = [];
  for (const [k, oid] of entries) {
    const at = k.indexOf('/');
    const type = k.slice(0, at);
    const rest = k.slice(at + 1);
    if (at <= 0 || !plain(type) || !plain(rest) || !/^[0-9a-f]{40}$/.test(oid)) continue;
    kept.push([type, rest, oid]);
  }
  const n = partsFor(kept.length);
  const byPart = Array.from({ length: n }, () => new Map<string, string[]>());
  for (const [type, rest, oid] of kept) {
    const byType = byPart[partOf(rest, n)];
    let lines = byType.get(type);
    if (!lines) byType.set(type, lines = []);
    lines.push(`${rest} ${oid}`);
  }
  const parts = byPart.map((byType) => [...byType.keys()].sort().map((type) => `= ${type}\n${byType.get(type)!.sort().join('\n')}\n`).join(''));
  const head = `${MAGIC}\n${JSON.stringify({ ...header, entries: kept.length, parts: n })}\n`;
  return { head: `${head}digest ${digest(key, head + parts.join(''))}\n`, parts };
}

/** The entries, when the state is for this cluster, these settings and exactly this subtree; else why not. */
export function decodeState(state: StateFiles, expect: StateHeader, key: string): DecodedState {
  const lines = state.head.split('\n');
  if (lines[0] !== MAGIC) return { ignored: 'not a state of this format' };
  let header: Partial<StateHeader> & { entries?: number; parts?: number };
  try {
    header = JSON.parse(lines[1]);
  } catch {
    return { ignored: 'unreadable header' };
  }
  if (header.cluster !== expect.cluster) return { ignored: `made for cluster ${JSON.stringify(header.cluster)}` };
  if (header.fingerprint !== expect.fingerprint) return { ignored: 'made with other render settings or format' };
  if (header.subtree !== expect.subtree) return { ignored: 'made for another tree of the cluster (another writer, or a manual edit)' };
  if (header.parts !== state.parts.length) return { ignored: 'part count does not match' };
  const head = `${lines[0]}\n${lines[1]}\n`;
  if (lines[2] !== `digest ${digest(key, head + state.parts.join(''))}`) return { ignored: 'digest does not match (edited, or another HMAC key)' };
  const entries = new Map<string, string>();
  for (const [p, part] of state.parts.entries()) {
    let type = '';
    for (const line of part.split('\n')) {
      if (!line) continue;
      if (line.startsWith('= ')) {
        type = line.slice(2);
        continue;
      }
      const sp = line.indexOf(' ');
      if (!type || sp <= 0) return { ignored: `malformed line in part ${p}` };
      entries.set(`${type}/${line.slice(0, sp)}`, line.slice(sp + 1));
    }
  }
  if (entries.size !== header.entries) return { ignored: 'entry count does not match' };
  return { entries, readAt: typeof header.readAt === 'number' ? header.readAt : undefined };
}
