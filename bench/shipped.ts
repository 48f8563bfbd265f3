// How the benches start kubetrail: as the container image does (Dockerfile), which ./kubetrail and the npm bin's
// shebang follow. Node flags, jemalloc and its settings, and Node's compile cache filled before the measured run, as
// the image fills it at build time: a process that finds its stripped TypeScript there never loads Node's
// TypeScript stripper (amaro, a WebAssembly build of swc: ~17 MB of RSS and 4 MB of heap for the life of it).
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
export const NODE_FLAGS = ['--max-semi-space-size=8', '--heap-growing-percent=50'];
/** The image's allocator and its settings (Dockerfile). */
export const JEMALLOC = { LD_PRELOAD: 'libjemalloc.so.2', MALLOC_CONF: 'narenas:2,dirty_decay_ms:1000,muzzy_decay_ms:0' };
const COMPILE_CACHE = join(root, 'bench/work/compile-cache');
let filled = false;

/** The environment of a shipped kubetrail process; the first call fills the compile cache as the image's build does. */
export function shippedEnv(): Record<string, string> {
  const env = { ...JEMALLOC, NODE_COMPILE_CACHE: COMPILE_CACHE };
  if (!filled) {
    if (!execFileSync('ldconfig', ['-p'], { encoding: 'utf8' }).includes(JEMALLOC.LD_PRELOAD)) {
      throw new Error('the benches run kubetrail with jemalloc as the image does: apt-get install libjemalloc2 (.ci/run does)');
    }
    execFileSync(process.execPath, [...NODE_FLAGS, join(root, 'src/runtime/fill-compile-cache.ts')], { env: { ...process.env, ...env }, stdio: 'ignore' });
    filled = true;
  }
  return env;
}
