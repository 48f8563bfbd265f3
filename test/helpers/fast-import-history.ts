// A long, realistic git history made quickly with `git fast-import`: clusters/<cluster>/<type>/<ns>/<name>.yaml
// files changed a few at a time with a skew (a few hot objects change often), deletions and re-creations, and the
// shapes the commit-graph must get right (a merge, an octopus merge, an empty commit, one with > 512 changes,
// a path with bytes >= 0x80). Deterministic for a seed; `continueFrom` appends to the branch that is there.
import { spawn } from 'node:child_process';

export interface HistoryOptions {
  commits: number;
  seed?: number;
  /** Seconds since the epoch of the first commit; one commit a minute after it. */
  startTime?: number;
  objects?: number;
  continueFrom?: boolean;
  /** The special shapes (merges, empty, huge, high-bit path); on by default. */
  shapes?: boolean;
}

const CLUSTERS = ['prod-us', 'prod-eu', 'staging'];
const TYPES = ['apps.v1.Deployment', 'core.v1.ConfigMap', 'core.v1.Service', 'batch.v1.CronJob'];
const NAMESPACES = ['shop', 'payments', 'kube-system', 'monitoring'];

/** The path of object number `n` (object 0 is the hot checkout Deployment). */
export function objectPath(n: number): string {
  if (n === 0) return 'clusters/prod-us/apps.v1.Deployment/shop/checkout.yaml';
  return `clusters/${CLUSTERS[n % 3]}/${TYPES[(n >> 2) % 4]}/${NAMESPACES[(n >> 4) % 4]}/obj-${n}.yaml`;
}

function random(seed: number) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13; s ^= s >>> 17; s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

/**
 * A running `git fast-import` into `gitdir`: `write` buffers its input (1 MiB at a time, waiting for the pipe),
 * `done` ends the stream and rejects when fast-import failed.
 */
export function startFastImport(gitdir: string, args: string[] = []) {
  const child = spawn('git', ['--git-dir', gitdir, 'fast-import', '--quiet', '--done', ...args], {
    stdio: ['pipe', 'inherit', 'inherit'],
    // Measured: fast-import grows its heap by many small brk() calls, ~100 µs each on the loaded CI machine
    // (7.5 s for 100 commits); a large top pad makes it 0.1 s.
    env: { ...process.env, MALLOC_TOP_PAD_: String(256 << 20) },
  });
  const exited = new Promise<number>((resolve, reject) => { child.on('error', reject); child.on('exit', (code) => resolve(code ?? 1)); });
  let buffered: string[] = [];
  let size = 0;
  const flush = async () => {
    const chunk = buffered.join('');
    buffered = [];
    size = 0;
    if (!child.stdin.write(chunk)) await new Promise((r) => child.stdin.once('drain', r));
  };
  const write = async (s: string) => {
    buffered.push(s);
    if ((size += s.length) > 1 << 20) await flush();
  };
  const done = async () => {
    await write('done\n');
    await flush();
    child.stdin.end();
    if (await exited !== 0) throw new Error('git fast-import failed');
  };
  return { write, done };
}

/** A fast-import `data` command for `s`. */
export const fastImportData = (s: string) => `data ${Buffer.byteLength(s)}\n${s}\n`;

export async function fastImportHistory(gitdir: string, o: HistoryOptions): Promise<void> {
  const rand = random(o.seed ?? 1);
  const objects = o.objects ?? 2000;
  const shapes = o.shapes ?? true;
  const start = o.startTime ?? 1_700_000_000;
  const fastImport = startFastImport(gitdir);
  const out = fastImport.write;
  const data = fastImportData;
  const alive = new Set<number>();
  let mark = 0;
  const commit = async (i: number, changes: string[], extra = '') => {
    const time = start + i * 60;
    await out(`commit refs/heads/main\nmark :${++mark}\ncommitter bench <bench@localhost> ${time} +0000\n${data(`sync ${i}`)}`);
    if (mark === 1 && o.continueFrom) await out('from refs/heads/main^0\n');
    else if (mark > 1) await out(`from :${mark - 1}\n`);
    await out(extra + changes.join(''));
  };
  const modify = (path: string, i: number) => `M 100644 inline ${path}\n${data(`kind: X\nmetadata:\n  name: ${path}\nrevision: ${i}\n`)}`;
  const first = o.continueFrom ? 1 : 0;
  for (let i = first; i < o.commits + first; i++) {
    const n = 1 + Math.floor(rand() ** 3 * 20); // mostly one to three objects, sometimes up to twenty
    const changes: string[] = [];
    for (let k = 0; k < n; k++) {
      const obj = rand() < 0.3 ? Math.floor(rand() * 8) : Math.floor(rand() ** 2 * objects); // hot ones, then a skew
      if (alive.has(obj) && rand() < 0.05) {
        changes.push(`D ${objectPath(obj)}\n`);
        alive.delete(obj);
      } else {
        changes.push(modify(objectPath(obj), i));
        alive.add(obj);
      }
    }
    if (shapes && i === first + 3) changes.push(modify('clusters/prod-eu/core.v1.ConfigMap/café/menü.yaml', i));
    if (shapes && i === first + 5) changes.length = 0; // an empty commit
    if (shapes && i === first + 7) for (let k = 0; k < 600; k++) changes.push(modify(`clusters/staging/core.v1.Secret/bulk/s-${k}.yaml`, i));
    await commit(i, changes);
    if (shapes && i === first + 10) {
      // A side branch merged back, then an octopus merge of three.
      const base = mark;
      const sides: number[] = [];
      for (let s = 0; s < 3; s++) {
        await out(`commit refs/heads/side${s}\nmark :${++mark}\ncommitter bench <bench@localhost> ${start + i * 60 + s + 1} +0000\n${data(`side ${s}`)}from :${base}\n${modify(`clusters/prod-us/core.v1.Service/shop/side-${s}.yaml`, i)}`);
        sides.push(mark);
      }
      await out(`commit refs/heads/main\nmark :${++mark}\ncommitter bench <bench@localhost> ${start + i * 60 + 10} +0000\n${data('merge')}from :${base}\nmerge :${sides[0]}\n`);
      await out(`commit refs/heads/main\nmark :${++mark}\ncommitter bench <bench@localhost> ${start + i * 60 + 20} +0000\n${data('octopus')}from :${mark - 1}\nmerge :${sides[1]}\nmerge :${sides[2]}\n`);
    }
  }
  await fastImport.done();
}
