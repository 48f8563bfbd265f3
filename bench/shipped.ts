// How the benches start kubetrail: as the container image does (Dockerfile), which ./kubetrail and the npm bin's
// shebang follow. Node flags, glibc malloc settings, and Node's compile cache filled before the measured run, as
// the image fills it at build time: a process that finds its stripped TypeScript there never loads Node's
// TypeScript stripper (amaro, a WebAssembly build of swc: ~17 MB of RSS and 4 MB of heap for the life of it).
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
export const NODE_FLAGS = ['--max-semi-space-size=8', '--heap-growing-percent=50'];
const COMPILE_CACHE = join(root, 'bench/work/compile-cache');
let filled = false;

/** The environment of a shipped kubetrail process; the first call fills the compile cache as the image's build does. */
export function shippedEnv(): Record<string, string> {
  const env = { MALLOC_TRIM_THRESHOLD_: '131072', MALLOC_ARENA_MAX: '2', NODE_COMPILE_CACHE: COMPILE_CACHE };
  if (!filled) {
    execFileSync(process.execPath, [...NODE_FLAGS, join(root, 'src/runtime/fill-compile-cache.ts')], { env: { ...process.env, ...env }, stdio: 'ignore' });
    filled = true;
  }
  return env;
}
