// Fetching refs' newest commits over git's smart HTTP protocol (upload-pack, version 0, stateless), and indexing
// the pack as it arrives with the project's own code (pack-indexer.ts). isomorphic-git's fetch needed 5.9 s for an
// 11k-file head where native git needs 0.7 s (bench/README.md); most of it was its pack indexing in JavaScript.
// Protocol: git's Documentation/gitprotocol-http.txt, gitprotocol-pack.txt (shallow, deepen, side-band-64k, filter),
// gitprotocol-v2.txt (fetch by object id); partial clones: partial-clone.txt;
// pack and index formats: gitformat-pack.txt.
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { atomicWrite, fsyncDir, writeDurably } from './atomic-write.ts';
import { encodeIndex } from './pack.ts';
import { PackIndexer } from './pack-indexer.ts';
import { parseAdvertisement, pkt, request, SendPackError, type SendTarget } from './send-pack.ts';

/** git's partial clone filter: a run needs the trees of the branch head, and only a few blobs (fetchObjects). */
export const BLOBLESS = 'blob:none';

/**
 * Fetches the newest commit of each of `refs` the remote has, at depth 1, into `gitdir` (a pack and its index; the
 * new shallow boundary in .git/shallow). The refs after the first are single parentless commits (render states):
 * the server names them shallow too, which they are not. `haves`: commits held here (with their trees), so the
 * server leaves out what they share. `blobless`: the first ref's objects without blobs when the server can filter
 * (its pack marked `.promisor`, as git marks a partial clone's); the other refs then come whole in a second request
 * at the same time. Returns each ref the remote has with its commit, and whether blobs were left out.
 */
export async function fetchRefs(gitdir: string, t: SendTarget, refs: string[], haves: string[], o: { blobless?: boolean } = {}):
  Promise<{ heads: Map<string, string>; blobless: boolean }> {
  const advertisement = parseAdvertisement(await request(t, 'info/refs?service=git-upload-pack', { method: 'GET' }));
  const heads = new Map(refs.filter((r) => advertisement.refs.has(r)).map((r) => [r, advertisement.refs.get(r)!]));
  const wants = [...new Set(heads.values())].filter((oid) => !haves.includes(oid));
  const first = heads.get(refs[0]);
  const blobless = !!o.blobless && advertisement.capabilities.has('filter') && first !== undefined && wants.includes(first);
  if (wants.length === 0) return { heads, blobless };
  const shallowFile = join(gitdir, 'shallow');
  const shallow = existsSync(shallowFile) ? readFileSync(shallowFile, 'utf8').split('\n').filter(Boolean) : [];
  const requests = blobless ? [[first!], wants.filter((oid) => oid !== first)].filter((w) => w.length) : [wants];
  const answers = await Promise.all(requests.map((w, i) => fetchPack(gitdir, t, { wants: w, shallow, haves, filter: blobless && i === 0 ? BLOBLESS : undefined })));
  const single = new Set(refs.slice(1).map((r) => heads.get(r)));
  const unshallow = new Set(answers.flatMap((a) => [...a.unshallow]));
  const next = [...new Set([...shallow.filter((oid) => !unshallow.has(oid)), ...answers.flatMap((a) => a.shallowNow).filter((oid) => !single.has(oid))])];
  if (next.join() !== shallow.join()) await atomicWrite(shallowFile, next.length ? `${next.join('\n')}\n` : '');
  return { heads, blobless };
}

/** One upload-pack request (protocol version 0) at depth 1; its pack stored. */
async function fetchPack(gitdir: string, t: SendTarget, r: { wants: string[]; shallow: string[]; haves: string[]; filter?: string }) {
  const body = [
    ...wantLines(r.wants, r.filter ? ['shallow', 'filter'] : ['shallow']),
    ...r.shallow.map((oid) => pkt(`shallow ${oid}\n`)),
    pkt('deepen 1\n'),
    ...(r.filter ? [pkt(`filter ${r.filter}\n`)] : []),
    '0000',
    ...r.haves.map((oid) => pkt(`have ${oid}\n`)),
    pkt('done\n'),
  ].join('');
  return uploadPack(gitdir, t, body, { promisor: !!r.filter });
}

/** A version-0 request's want lines: the first names the capabilities asked for. */
const wantLines = (wants: string[], capabilities: string[] = []) => [
  pkt(`want ${wants[0]} ${['side-band-64k', 'ofs-delta', 'no-progress', ...capabilities, 'agent=kubetrail'].join(' ')}\n`),
  ...wants.slice(1).map((oid) => pkt(`want ${oid}\n`)),
];

/**
 * Objects by id from a partial clone's remote (blobs its fetch left out), as git's lazy fetch asks for them:
 * protocol version 2, which lets a client want any object the server has. A server (or proxy) that does not take
 * version 2 is asked in version 0, which over HTTP takes wants its refs reach (git checks reachability for a
 * stateless request). Stored as a promisor pack.
 */
export async function fetchObjects(gitdir: string, t: SendTarget, oids: string[]): Promise<void> {
  const wants = [...new Set(oids)];
  if (wants.length === 0) return;
  const v2 = [
    pkt('command=fetch\n'), pkt('agent=kubetrail\n'), '0001', pkt('ofs-delta\n'), pkt('no-progress\n'),
    ...wants.map((oid) => pkt(`want ${oid}\n`)), pkt('done\n'), '0000',
  ].join('');
  try {
    await uploadPack(gitdir, t, v2, { promisor: true, headers: { 'git-protocol': 'version=2' } });
  } catch (e) {
    const v0 = [...wantLines(wants), '0000', pkt('done\n')].join('');
    await uploadPack(gitdir, t, v0, { promisor: true }).catch((e0: Error) => {
      throw new SendPackError(`cannot fetch ${wants.length} object(s) left out of this partial clone: ${(e as Error).message}; in protocol v0: ${e0.message}`);
    });
  }
}

/** Posts an upload-pack request and stores the pack of its answer, indexed as it arrives. */
async function uploadPack(gitdir: string, t: SendTarget, body: string, o: { promisor: boolean; headers?: Record<string, string> }) {
  // The pack is indexed as it arrives: its first pass overlaps the server's writing (most of a fetch's time).
  const indexer = new PackIndexer();
  const response = new UploadPackResponse((bytes) => indexer.add(bytes));
  await request(t, 'git-upload-pack', {
    method: 'POST', body: new Blob([body]).stream(), onData: (chunk) => response.add(chunk),
    headers: { 'content-type': 'application/x-git-upload-pack-request', accept: 'application/x-git-upload-pack-result', ...o.headers },
  });
  const answer = response.end();
  storePack(gitdir, indexer, o.promisor); // we wanted something: no pack is an error
  return answer;
}

/**
 * The server's answer, read as it arrives: the shallow update (lines up to the first flush), then ACK/NAK, then the
 * pack in side band 1, handed to `onPack` as its bytes arrive (a 64 KiB line is not waited for, nor copied).
 */
export class UploadPackResponse {
  private readonly shallowNow: string[] = [];
  private readonly unshallow = new Set<string>();
  private rest = Buffer.alloc(0);
  private packLeft = 0; // bytes of the current side-band-1 line still to come
  private inShallowSection = true;
  private readonly onPack: (bytes: Buffer) => void;

  constructor(onPack: (bytes: Buffer) => void) {
    this.onPack = onPack;
  }

  add(chunk: Buffer): void {
    const data = this.rest.length ? Buffer.concat([this.rest, chunk]) : chunk;
    let at = 0;
    while (at < data.length) {
      if (this.packLeft > 0) {
        const n = Math.min(this.packLeft, data.length - at);
        this.onPack(data.subarray(at, at + n));
        this.packLeft -= n;
        at += n;
        continue;
      }
      if (data.length - at < 4) break;
      const length = parseInt(data.toString('latin1', at, at + 4), 16);
      if (Number.isNaN(length) || (length > 0 && length < 5)) throw new SendPackError('malformed pkt-line from the server');
      if (length === 0) {
        this.inShallowSection = false;
        at += 4;
        continue;
      }
      if (data.length - at < 5) break;
      if (data[at + 4] === 1) { // side band 1: the pack, passed on as it comes
        this.packLeft = length - 5;
        at += 5;
        continue;
      }
      if (at + length > data.length) break;
      this.line(data.subarray(at + 4, at + length));
      at += length;
    }
    this.rest = Buffer.from(data.subarray(at)); // a copy: `data` may be the caller's chunk
  }

  /** The shallow update, once the whole answer was read. */
  end(): { shallowNow: string[]; unshallow: Set<string> } {
    if (this.rest.length || this.packLeft) throw new SendPackError('the answer of the server ends inside a pkt-line');
    return { shallowNow: this.shallowNow, unshallow: this.unshallow };
  }

  private line(line: Buffer): void {
    const text = line[0] > 3 ? line.toString('latin1').trimEnd() : '';
    if (this.inShallowSection && text.startsWith('shallow ')) this.shallowNow.push(text.slice(8));
    else if (this.inShallowSection && text.startsWith('unshallow ')) this.unshallow.add(text.slice(10));
    else if (text.startsWith('ACK') || text === 'NAK') this.inShallowSection = false;
    else if (text.startsWith('ERR ')) throw new SendPackError(`the remote refused the fetch: ${text.slice(4)}`);
    else if (line[0] === 3) throw new SendPackError(`the remote failed: ${line.subarray(1).toString('utf8').trim()}`);
  }
}

/**
 * Pack and index durable, then renamed into place (index last: git and our reader look for packs by index). A
 * promisor pack's marker goes first: git accepts the blobs its trees name being missing only from such a pack.
 */
function storePack(gitdir: string, indexer: PackIndexer, promisor: boolean): void {
  const { pack, ids } = indexer.finish();
  const index = encodeIndex(ids, pack.subarray(-20));
  const dir = join(gitdir, 'objects', 'pack');
  mkdirSync(dir, { recursive: true });
  const name = `pack-${pack.subarray(-20).toString('hex')}`;
  const tmp = join(dir, `tmp_pack_kubetrail_fetch_${process.pid}_${Date.now()}`);
  writeDurably(tmp, pack);
  writeDurably(`${tmp}.idx`, index);
  if (promisor) writeDurably(join(dir, `${name}.promisor`), Buffer.alloc(0));
  renameSync(tmp, join(dir, `${name}.pack`));
  renameSync(`${tmp}.idx`, join(dir, `${name}.idx`));
  fsyncDir(dir);
}
