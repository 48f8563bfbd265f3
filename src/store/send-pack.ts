// Pushing over git's smart HTTP protocol, sending only what is new. isomorphic-git's push sends every tree and blob
// of every new commit (the whole repository for a 10-file change) and needs the whole pack in memory; here the
// objects are those the new commits changed against their parents, streamed into the request as they are read.
// Protocol: git's Documentation/gitprotocol-http.txt and gitprotocol-pack.txt (receive-pack, report-status,
// side-band-64k); pack format: gitformat-pack.txt (version 2, whole objects).
import { createHash } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { Readable } from 'node:stream';
import { deflate, packEntryHeader, parseTree, type ObjectType } from './codec.ts';

export interface SendTarget { url: string; username: string; token?: string; timeoutMs?: number }

/** What the server said: the branch moved, or the HTTP status of a refusal. */
export class SendPackError extends Error {
  readonly rejected: boolean;
  readonly status?: number;
  /** Refs that moved all the same (those riding along with a rejected branch). */
  readonly moved: Set<string>;
  constructor(message: string, o: { rejected?: boolean; status?: number; moved?: Set<string> } = {}) {
    super(message);
    this.rejected = o.rejected ?? false;
    this.status = o.status;
    this.moved = o.moved ?? new Set();
  }
}

const ZERO = '0'.repeat(40);
/** One pkt-line: four hex digits of length (its own four included), then the line. */
export const pkt = (line: string) => `${(Buffer.byteLength(line) + 4).toString(16).padStart(4, '0')}${line}`;

/** Splits pkt-lines; a flush (0000) is an empty entry. */
export function parsePktLines(data: Buffer): Buffer[] {
  const lines: Buffer[] = [];
  for (let at = 0; at + 4 <= data.length;) {
    const length = parseInt(data.subarray(at, at + 4).toString('latin1'), 16);
    if (Number.isNaN(length)) throw new Error('malformed pkt-line from the server');
    if (length === 0) {
      lines.push(Buffer.alloc(0));
      at += 4;
      continue;
    }
    lines.push(data.subarray(at + 4, at + length));
    at += length;
  }
  return lines;
}

/** The refs a receive-pack server advertises, and its capabilities. */
export function parseAdvertisement(data: Buffer): { refs: Map<string, string>; capabilities: Set<string> } {
  const refs = new Map<string, string>();
  let capabilities = new Set<string>();
  for (const raw of parsePktLines(data)) {
    const line = raw.toString('utf8').replace(/\n$/, '');
    if (!line || line.startsWith('# service=')) continue;
    const [ref, caps] = line.split('\0');
    if (caps !== undefined) capabilities = new Set(caps.split(' ').filter(Boolean));
    const [oid, name] = ref.split(' ');
    if (name && name !== 'capabilities^{}') refs.set(name, oid);
  }
  return { refs, capabilities };
}

/** report-status, from a response that may be multiplexed (side-band-64k: band 1 data, 2 progress, 3 error). */
export function parseReportStatus(data: Buffer, sideBand: boolean): { unpack: string; refs: Map<string, string> } {
  let report = data;
  if (sideBand) {
    const parts: Buffer[] = [];
    for (const line of parsePktLines(data)) {
      if (line[0] === 1) parts.push(line.subarray(1));
      else if (line[0] === 3) throw new Error(`the server failed: ${line.subarray(1).toString('utf8').trim()}`);
    }
    report = Buffer.concat(parts);
  }
  let unpack = '';
  const refs = new Map<string, string>();
  for (const raw of parsePktLines(report)) {
    const line = raw.toString('utf8').replace(/\n$/, '');
    if (line.startsWith('unpack ')) unpack = line.slice(7);
    else if (line.startsWith('ok ')) refs.set(line.slice(3), 'ok');
    else if (line.startsWith('ng ')) {
      const [name, ...reason] = line.slice(3).split(' ');
      refs.set(name, reason.join(' ') || 'rejected');
    }
  }
  return { unpack, refs };
}

/** Reads objects by id: content and type as stored. */
export interface PackSource {
  read(oid: string): Promise<Buffer>;
}

export interface NewCommit { oid: string; tree: string; parentTree?: string }

/**
 * The objects a remote holding the first commit's parent lacks: the commits, and the trees and blobs each one
 * changed against its first parent (a commit without parent: its whole tree). An unchanged subtree is skipped
 * whole: a 10-file change costs the trees on the paths to those files, not the repository.
 */
export async function newObjects(source: PackSource, commits: NewCommit[]): Promise<Map<string, ObjectType>> {
  const objects = new Map<string, ObjectType>();
  const walk = async (tree: string, base: string | undefined): Promise<void> => {
    if (tree === base || objects.has(tree)) return;
    objects.set(tree, 'tree');
    const before = new Map(base ? parseTree(await source.read(base)).map((e) => [e.path, e]) : []);
    for (const e of parseTree(await source.read(tree))) {
      const old = before.get(e.path);
      if (old?.oid === e.oid) continue;
      if (e.type === 'tree') await walk(e.oid, old?.type === 'tree' ? old.oid : undefined);
      else if (e.type === 'blob') objects.set(e.oid, 'blob');
    }
  };
  for (const c of commits) {
    objects.set(c.oid, 'commit');
    await walk(c.tree, c.parentTree);
  }
  return objects;
}

/**
 * A version-2 pack of whole objects after `prefix`, produced in chunks of about 64 KiB as the objects are read
 * (the trailer is the SHA-1 of the pack before it): memory holds a chunk, not the pack.
 */
export function packStream(source: PackSource, objects: Map<string, ObjectType>, prefix = Buffer.alloc(0)): ReadableStream<Uint8Array> {
  const hash = createHash('sha1');
  const pending = objects.entries();
  const header = Buffer.alloc(12);
  header.write('PACK', 0, 'latin1');
  header.writeUInt32BE(2, 4);
  header.writeUInt32BE(objects.size, 8);
  hash.update(header);
  let chunk: Buffer[] = [prefix, header];
  let size = prefix.length + header.length;
  return new ReadableStream<Uint8Array>({
    async pull(c) {
      for (let next = pending.next(); ; next = pending.next()) {
        if (next.done) {
          c.enqueue(Buffer.concat([...chunk, hash.digest()]));
          return c.close();
        }
        const [oid, type] = next.value;
        const content = await source.read(oid);
        const entry = Buffer.concat([packEntryHeader(type, content.length), deflate(content)]);
        hash.update(entry);
        chunk.push(entry);
        size += entry.length;
        if (size >= 64 << 10) break;
      }
      c.enqueue(Buffer.concat(chunk));
      chunk = [];
      size = 0;
    },
  });
}

function authorization(t: SendTarget): Record<string, string> {
  return { authorization: `Basic ${Buffer.from(`${t.username}:${t.token ?? ''}`).toString('base64')}` };
}

/**
 * One request over node:http(s), the body streamed with backpressure. Not the fetch API: a daemon pushing every
 * few minutes grew by ~0.1 MB a push with it (bench/push-cycles.ts), and stayed flat with node:http.
 * With `onData`, a successful answer goes there as it arrives (resolving to an empty buffer); what it throws fails
 * the request.
 */
export function request(t: SendTarget, path: string,
  o: { method: string; headers?: Record<string, string>; body?: ReadableStream<Uint8Array>; onData?: (chunk: Buffer) => void }): Promise<Buffer> {
  const onData = o.onData;
  const url = new URL(`${t.url.replace(/\/+$/, '')}/${path}`);
  const send = url.protocol === 'https:' ? https.request : http.request;
  return new Promise((resolve, reject) => {
    const req = send(url, {
      method: o.method, timeout: t.timeoutMs ?? 300_000,
      headers: { ...authorization(t), 'user-agent': 'git/kubetrail', ...o.headers, ...(o.body ? { 'transfer-encoding': 'chunked' } : {}) },
    }, (res) => {
      const status = res.statusCode ?? 0;
      const ok = status >= 200 && status < 300;
      const chunks: Buffer[] = [];
      let failed = false;
      res.on('data', (c: Buffer) => {
        if (!ok || !onData) return void chunks.push(c);
        if (failed) return;
        try {
          onData(c);
        } catch (e) {
          failed = true;
          reject(e);
          req.destroy();
        }
      });
      res.on('error', reject);
      res.on('end', () => {
        if (ok) resolve(Buffer.concat(chunks));
        else reject(new SendPackError(`${o.method} ${path}: HTTP ${status}`, { status }));
      });
    });
    req.on('timeout', () => req.destroy(new Error(`${o.method} ${path}: no answer in ${(t.timeoutMs ?? 300_000) / 1000} s`)));
    req.on('error', reject);
    if (!o.body) return void req.end();
    const body = Readable.fromWeb(o.body as never);
    body.on('error', (e) => req.destroy(e));
    body.pipe(req);
  });
}

/** The refs a receive-pack server has now, and its capabilities. */
export async function advertisedRefs(t: SendTarget): Promise<{ refs: Map<string, string>; capabilities: Set<string> }> {
  return parseAdvertisement(await request(t, 'info/refs?service=git-receive-pack', { method: 'GET' }));
}

/** One ref to move on the remote from `old` (undefined: create it) to `commits`' last. */
export interface RefUpdate { ref: string; old: string | undefined; commits: NewCommit[] }

/**
 * Moves refs on the remote in one request, sending the objects their commits add. The first is the one that matters:
 * throws SendPackError with `rejected` when it was not at `old` any more (someone else pushed first). The others ride
 * along (not atomic: a cache such as a render state must never hold the branch back); returns those that moved.
 */
export async function sendPack(t: SendTarget, source: PackSource, updates: RefUpdate[], capabilities: Set<string>): Promise<Set<string>> {
  const sideBand = capabilities.has('side-band-64k');
  const caps = ['report-status', ...(sideBand ? ['side-band-64k'] : []), 'agent=kubetrail'].join(' ');
  const lines = updates.map((u, i) => pkt(`${u.old ?? ZERO} ${u.commits.at(-1)!.oid} ${u.ref}${i === 0 ? `\0${caps}` : ''}`));
  const command = Buffer.from(`${lines.join('')}0000`);
  const objects = await newObjects(source, updates.flatMap((u) => u.commits));
  const response = await request(t, 'git-receive-pack', {
    method: 'POST', body: packStream(source, objects, command),
    headers: { 'content-type': 'application/x-git-receive-pack-request', accept: 'application/x-git-receive-pack-result' },
  });
  const report = parseReportStatus(response, sideBand);
  if (report.unpack !== 'ok') throw new SendPackError(`the remote could not unpack the push: ${report.unpack || 'no report'}`);
  const moved = new Set(updates.filter((u) => report.refs.get(u.ref) === 'ok').map((u) => u.ref));
  const status = report.refs.get(updates[0].ref);
  // "fetch first", "non-fast-forward", "failed to update ref", "failed to lock": another push got there first.
  if (status !== 'ok') throw new SendPackError(`push rejected: ${status ?? 'no status for the branch'}`, { rejected: true, moved });
  return moved;
}
