// Keeps git's commit-graph chain (objects/info/commit-graphs) current with changed-path Bloom filters, so
// path-limited `git log` and kubetrail's history walks skip the commits that did not touch a path; written by
// kubetrail itself because the container has no git. Each update writes one layer for the commits not yet in the
// graph and merges the layers above one at most twice its size (git's size-multiple rule): a commit is rewritten
// O(log n) times, never the whole graph per sync. A cache: any layer that is unreadable, fails its checksum or
// lacks git's default filters is dropped with the layers above it and its commits written again.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { HeldLock, writeDurably } from './atomic-write.ts';
import { BLOOM_SETTINGS, changedPathsFilter } from './bloom.ts';
import { changedFiles, type ReadObject } from './changed-paths.ts';
import { parseCommit } from './codec.ts';
import { encodeLayer, GraphLayer, type LayerRow } from './commit-graph-format.ts';
import { listRefTips } from './ref-tips.ts';

/** A layer is merged into the new one when it holds at most this many times the commits written above it. */
const SIZE_MULTIPLE = 2;

export interface CommitGraphUpdate {
  /** Commits new to the graph. */
  added: number;
  /** Commits copied from merged (or rewritten) layers into the new one. */
  rewritten: number;
  layers: number;
  /** Commits still missing from the graph (more than a run adds): the next runs add them. */
  remaining: number;
}

const graphsDir = (gitdir: string) => join(gitdir, 'objects', 'info', 'commit-graphs');
const layerFile = (gitdir: string, hash: string) => join(graphsDir(gitdir), `graph-${hash}.graph`);

// Layers checksummed before, by name, size, mtime and inode: at 100k commits the SHA-1 of the 8.5 MB bottom layer
// cost ~100 ms of every sync on the loaded CI machine. A hint only (lost or stale: layers are checksummed again).
const stampsFile = (gitdir: string) => join(gitdir, 'kubetrail', 'commit-graph-verified');
const stampOf = (file: string) => {
  const s = statSync(file);
  return `${basename(file)} ${s.size} ${s.mtimeMs} ${s.ino}`;
};

function readStamps(gitdir: string): Set<string> {
  try {
    return new Set(readFileSync(stampsFile(gitdir), 'latin1').split('\n').filter(Boolean));
  } catch {
    return new Set();
  }
}

function writeStamps(gitdir: string, stamps: string[]): void {
  mkdirSync(join(gitdir, 'kubetrail'), { recursive: true });
  const temp = `${stampsFile(gitdir)}.${process.pid}.tmp`;
  writeFileSync(temp, stamps.map((s) => `${s}\n`).join(''));
  renameSync(temp, stampsFile(gitdir));
}

/**
 * The usable bottom of the chain: layers read, checksummed (unless `stamps` says so already) and linked to the
 * ones below as they record; reading stops at the first that is not (it and the layers above are rewritten).
 * `complete` when every layer was kept; `stamps` of the kept layers.
 */
export function readChain(gitdir: string, verified = new Set<string>()): { layers: GraphLayer[]; complete: boolean; stamps: string[] } {
  let lines: string[];
  try {
    lines = readFileSync(join(graphsDir(gitdir), 'commit-graph-chain'), 'latin1').split('\n').filter(Boolean);
  } catch {
    return { layers: [], complete: true, stamps: [] };
  }
  const layers: GraphLayer[] = [];
  const stamps: string[] = [];
  let numInBase = 0;
  for (const hash of lines) {
    try {
      if (!/^[0-9a-f]{40}$/.test(hash)) break;
      const file = layerFile(gitdir, hash);
      const stamp = stampOf(file);
      const layer = new GraphLayer(readFileSync(file), numInBase);
      const below = layers.map((l) => l.hash);
      if (layer.hash !== hash || !layer.hasOurFilters || !(verified.has(stamp) || layer.checksumMatches())) break;
      if (layer.baseHashes().join() !== below.join()) break;
      layers.push(layer);
      stamps.push(stamp);
      numInBase += layer.count;
    } catch {
      break;
    }
  }
  return { layers, complete: layers.length === lines.length, stamps };
}

/** Where a commit is in the chain, if anywhere. */
function locate(layers: GraphLayer[], oid: Buffer): { layer: GraphLayer; index: number } | undefined {
  for (let l = layers.length - 1; l >= 0; l--) {
    const index = layers[l].find(oid);
    if (index >= 0) return { layer: layers[l], index };
  }
  return undefined;
}

function atPosition(layers: GraphLayer[], position: number): { layer: GraphLayer; index: number } {
  const layer = layers.find((l) => position >= l.numInBase && position < l.numInBase + l.count);
  if (!layer) throw new Error(`commit-graph: parent position ${position} outside the chain`);
  return { layer, index: position - layer.numInBase };
}

/** Commits a run adds at most (~2-5 ms each): a long history without a graph is covered over a few runs. */
export const MAX_NEW_COMMITS = 2000;

interface PendingCommit { oid: Buffer; tree: Buffer; parents: Buffer[]; date: number; filter?: Uint8Array }

/** The commits reachable from the refs that the chain does not hold, parents read from the object database. */
async function newCommits(gitdir: string, read: ReadObject, layers: GraphLayer[]): Promise<Map<string, PendingCommit>> {
  const found = new Map<string, PendingCommit>();
  const stack = [...await listRefTips(gitdir)];
  while (stack.length) {
    let oid = stack.pop()!;
    if (found.has(oid) || locate(layers, Buffer.from(oid, 'hex'))) continue;
    let content = await read(oid);
    while (content.subarray(0, 7).toString('latin1') === 'object ') { // an annotated tag: the object it names
      oid = content.toString('latin1', 7, 47);
      content = await read(oid);
    }
    if (content.subarray(0, 5).toString('latin1') !== 'tree ') continue; // a ref to a tree or a blob
    if (found.has(oid) || locate(layers, Buffer.from(oid, 'hex'))) continue;
    const c = parseCommit(content);
    found.set(oid, { oid: Buffer.from(oid, 'hex'), tree: Buffer.from(c.tree, 'hex'), parents: c.parents.map((p) => Buffer.from(p, 'hex')), date: c.committer.timestamp });
    stack.push(...c.parents);
  }
  return found;
}

/** The commits' ids ordered so that each comes after those of its parents that are in `commits`. */
function parentsFirst(commits: Map<string, PendingCommit>): string[] {
  const order: string[] = [];
  const state = new Map<string, 1 | 2>(); // 1: its parents are being placed, 2: placed
  for (const start of commits.keys()) {
    const stack = [start];
    while (stack.length) {
      const oid = stack[stack.length - 1];
      if (state.get(oid) === 2) { stack.pop(); continue; }
      if (!state.has(oid)) {
        state.set(oid, 1);
        stack.push(...commits.get(oid)!.parents.map((p) => p.toString('hex')).filter((p) => commits.has(p) && !state.has(p)));
        continue;
      }
      state.set(oid, 2);
      order.push(oid);
      stack.pop();
    }
  }
  return order;
}

/**
 * Brings the chain up to date with the refs; returns what it wrote (undefined: nothing to do, or another
 * writer, such as `git commit-graph write`, holds the chain's lock: the next call catches up). Call with the
 * repository lock held.
 */
export async function updateCommitGraph(gitdir: string, read: ReadObject, o: { maxNewCommits?: number } = {}): Promise<CommitGraphUpdate | undefined> {
  const chainFile = join(graphsDir(gitdir), 'commit-graph-chain');
  const legacyFile = join(gitdir, 'objects', 'info', 'commit-graph');
  // Git neither reads nor writes a commit-graph where history is rewritten by grafts (commit_graph_compatible):
  // a shallow clone (the CronJob's depth-1 fetch) has parents that are not there.
  if (['shallow', 'info/grafts', 'refs/replace'].some((p) => existsSync(join(gitdir, p)))) return undefined;
  const verified = readStamps(gitdir);
  const chain = readChain(gitdir, verified);
  const found = await newCommits(gitdir, read, chain.layers);
  // The oldest ones first, parents before children, so a partial layer is still closed under parents.
  const pending = new Map(parentsFirst(found).slice(0, o.maxNewCommits ?? MAX_NEW_COMMITS).map((oid) => [oid, found.get(oid)!]));
  if (!pending.size && chain.complete && !existsSync(legacyFile)) {
    if (chain.stamps.some((stamp) => !verified.has(stamp))) writeStamps(gitdir, chain.stamps);
    return undefined;
  }

  mkdirSync(graphsDir(gitdir), { recursive: true });
  const lock = HeldLock.tryAcquire(chainFile);
  if (!lock) return undefined;
  try {
    // Layers above one at most SIZE_MULTIPLE times what is written above it are merged into the new layer.
    const kept = [...chain.layers];
    let size = pending.size;
    const merged: GraphLayer[] = [];
    while (kept.length && kept[kept.length - 1].count <= SIZE_MULTIPLE * size) {
      const top = kept.pop()!;
      merged.unshift(top);
      size += top.count;
    }
    for (const layer of merged) {
      for (let i = 0; i < layer.count; i++) {
        const filter = layer.filter(i);
        pending.set(layer.oid(i).toString('hex'), {
          oid: layer.oid(i), tree: layer.tree(i), date: layer.date(i), filter: filter?.length ? filter : undefined,
          parents: layer.parents(i).map((p) => { const at = atPosition(chain.layers, p); return at.layer.oid(at.index); }),
        });
      }
    }
    const names = kept.map((l) => l.hash);
    if (pending.size) { // else only dropped layers of unreachable commits, or a single-file graph, go: git writes no empty layer
      const rows = await layerRows(kept, pending, read);
      const bytes = encodeLayer(rows, kept.map((l) => Buffer.from(l.hash, 'hex')), kept.every((l) => l.hasGenerationData));
      const hash = bytes.toString('hex', bytes.length - 20);
      const file = layerFile(gitdir, hash);
      // Written even when a file of that name is there: it may be the damaged copy this layer replaces. Its
      // rename is synced with the chain's (same directory, one sync; git syncs neither rename).
      const temp = `${file}.${process.pid}.tmp`;
      rmSync(temp, { force: true });
      writeDurably(temp, bytes);
      renameSync(temp, file);
      names.push(hash);
    }
    const stamps = names.map((name, i) => chain.stamps[i] && i < kept.length ? chain.stamps[i] : stampOf(layerFile(gitdir, name)));
    lock.write(names.map((n) => `${n}\n`).join(''));
    lock.commit();
    // As git does after a split write: the single-file graph (it would be read instead of the chain) and the
    // layers no longer listed go.
    rmSync(legacyFile, { force: true });
    const listed = new Set(names.map((n) => `graph-${n}.graph`));
    for (const name of readdirSync(graphsDir(gitdir))) {
      const leftover = /^graph-[0-9a-f]{40}\.graph(\.\d+\.tmp)?$/.test(name) && !listed.has(name); // or a killed run's temp file
      if (leftover) rmSync(join(graphsDir(gitdir), name), { force: true }); // not synced: one back is removed next time
    }
    writeStamps(gitdir, stamps);
    const rewritten = merged.reduce((n, l) => n + l.count, 0);
    const added = pending.size - rewritten;
    return { added, rewritten, layers: names.length, remaining: found.size - added };
  } catch (e) {
    lock.rollback();
    throw e;
  }
}

/** The new layer's rows: sorted, parents as chain positions, levels and corrected dates, filters computed where missing. */
async function layerRows(base: GraphLayer[], pending: Map<string, PendingCommit>, read: ReadObject): Promise<LayerRow[]> {
  const numInBase = base.reduce((n, l) => n + l.count, 0);
  const sorted = [...pending.values()].sort((a, b) => a.oid.compare(b.oid));
  const index = new Map(sorted.map((c, i) => [c.oid.toString('hex'), i]));
  const rows: LayerRow[] = sorted.map((c) => ({ oid: c.oid, tree: c.tree, date: c.date, parents: [], level: 0, corrected: 0, filter: c.filter ?? new Uint8Array() }));
  const baseOf = (oid: Buffer) => {
    const at = locate(base, oid);
    if (!at) throw new Error(`commit-graph: parent ${oid.toString('hex')} is neither in the graph nor new`);
    return at;
  };
  for (const [i, c] of sorted.entries()) {
    rows[i].parents = c.parents.map((p) => {
      const own = index.get(p.toString('hex'));
      if (own !== undefined) return numInBase + own;
      const at = baseOf(p);
      return at.layer.numInBase + at.index;
    });
  }
  // Levels and corrected dates, parents first (iteratively: histories are deep).
  const done = new Uint8Array(rows.length);
  for (let start = 0; start < rows.length; start++) {
    const stack = [start];
    while (stack.length) {
      const i = stack[stack.length - 1];
      if (done[i]) { stack.pop(); continue; }
      const waiting = rows[i].parents.filter((p) => p >= numInBase && !done[p - numInBase]);
      if (waiting.length) { stack.push(...waiting.map((p) => p - numInBase)); continue; }
      let level = 0;
      let corrected = 0;
      for (const p of rows[i].parents) {
        if (p >= numInBase) {
          level = Math.max(level, rows[p - numInBase].level);
          corrected = Math.max(corrected, rows[p - numInBase].corrected);
        } else {
          const at = atPosition(base, p);
          level = Math.max(level, at.layer.level(at.index));
          corrected = Math.max(corrected, at.layer.corrected(at.index) ?? 0);
        }
      }
      rows[i].level = level + 1;
      rows[i].corrected = Math.max(rows[i].date, corrected + 1);
      done[i] = 1;
      stack.pop();
    }
  }
  // Commit by commit, one commit's new trees are the next one's old trees: each is read once.
  const trees = new Map<string, Promise<Buffer>>();
  const readTree = (oid: string) => {
    let tree = trees.get(oid);
    if (!tree) {
      if (trees.size >= 4096) trees.delete(trees.keys().next().value!);
      trees.set(oid, (tree = read(oid)));
    }
    return tree;
  };
  let computed = 0;
  for (const c of pending.values()) { // parents first
    if (c.filter) continue;
    // Reads resolve as microtasks: let timers run now and then (the repository lock's heartbeat).
    if (++computed % 200 === 0) await new Promise((resolve) => setTimeout(resolve, 0));
    const i = index.get(c.oid.toString('hex'))!;
    const first = c.parents[0];
    const parentTree = first === undefined ? undefined
      : pending.get(first.toString('hex'))?.tree ?? (() => { const at = baseOf(first); return at.layer.tree(at.index); })();
    const files = await changedFiles(readTree, parentTree?.toString('hex'), c.tree.toString('hex'), BLOOM_SETTINGS.maxChangedPaths);
    rows[i].filter = changedPathsFilter(files);
  }
  return rows;
}
