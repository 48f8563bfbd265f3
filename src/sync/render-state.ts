// Pure: the render cache as it travels with the remote (refs/kubetrail/state/<clusterId>), so a CronJob's empty
// volume reads metadata first too. One text file: a versioned header that binds it to one cluster, one set of
// render settings (fingerprint) and the cluster subtree it was made for, a keyed digest, then the entries sorted
// and grouped by type (~85 bytes an object before git's zlib). A state that does not match in every respect is
// ignored: it is only a cache, never trusted over the tree.
import { createHmac } from 'node:crypto';

const MAGIC = 'kubetrail-render-state 1';

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

/**
 * The state text. `entries` are RenderCache keys (`type/uid/resourceVersion`) → blob ids; a key with a blank in
 * it is left out (it simply is not cached). `key` is the HMAC key: with the deployment's KUBETRAIL_HMAC_KEY set,
 * no one without it can make a state this run accepts; without one the digest still catches a hand edit.
 */
export function encodeState(header: StateHeader, entries: Iterable<[key: string, oid: string]>, key: string): string {
  const byType = new Map<string, string[]>();
  let count = 0;
  for (const [k, oid] of entries) {
    const at = k.indexOf('/');
    const type = k.slice(0, at);
    const rest = k.slice(at + 1);
    if (at <= 0 || !plain(type) || !plain(rest) || !/^[0-9a-f]{40}$/.test(oid)) continue;
    let lines = byType.get(type);
    if (!lines) byType.set(type, lines = []);
    lines.push(`${rest} ${oid}`);
    count++;
  }
  let body = '';
  for (const type of [...byType.keys()].sort()) body += `= ${type}\n${byType.get(type)!.sort().join('\n')}\n`;
  const head = `${MAGIC}\n${JSON.stringify({ ...header, entries: count })}\n`;
  return `${head}digest ${digest(key, head + body)}\n${body}`;
}

/** The entries, when the state is for this cluster, these settings and exactly this subtree; else why not. */
export function decodeState(text: string, expect: StateHeader, key: string): DecodedState {
  const lines = text.split('\n');
  if (lines[0] !== MAGIC) return { ignored: 'not a state of this format' };
  let header: Partial<StateHeader> & { entries?: number };
  try {
    header = JSON.parse(lines[1]);
  } catch {
    return { ignored: 'unreadable header' };
  }
  if (header.cluster !== expect.cluster) return { ignored: `made for cluster ${JSON.stringify(header.cluster)}` };
  if (header.fingerprint !== expect.fingerprint) return { ignored: 'made with other render settings or format' };
  if (header.subtree !== expect.subtree) return { ignored: 'made for another tree of the cluster (another writer, or a manual edit)' };
  const head = `${lines[0]}\n${lines[1]}\n`;
  const bodyStart = head.length + lines[2].length + 1;
  if (lines[2] !== `digest ${digest(key, head + text.slice(bodyStart))}`) return { ignored: 'digest does not match (edited, or another HMAC key)' };
  const entries = new Map<string, string>();
  let type = '';
  for (let i = 3; i < lines.length; i++) {
    const line = lines[i];
    if (!line) continue;
    if (line.startsWith('= ')) {
      type = line.slice(2);
      continue;
    }
    const sp = line.indexOf(' ');
    if (!type || sp <= 0) return { ignored: `malformed line ${i + 1}` };
    entries.set(`${type}/${line.slice(0, sp)}`, line.slice(sp + 1));
  }
  if (entries.size !== header.entries) return { ignored: 'entry count does not match' };
  return { entries, readAt: typeof header.readAt === 'number' ? header.readAt : undefined };
}
