// Fills Node's compile cache (NODE_COMPILE_CACHE) with every kubetrail module and all they import, as the
// container image's build does; run it with the Node flags kubetrail runs with (Node keeps a cache per set of V8
// flags, and one filled without them is never read). A process that finds all its stripped TypeScript there never
// loads Node's TypeScript stripper (a WebAssembly build of swc: ~17 MB of RSS and 4 MB of heap for the life of a
// watch or a daemon); `sync --help` alone cached only what a sync loads, so `watch`, `run` and `serve` loaded it.
import './compile-cache.ts';
import './lean-client-node.ts'; // the same module graph as the executable's (client-node's stand-ins)
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const src = new URL('../', import.meta.url);
// The entry points run their help (imported, they would run a command).
execFileSync(process.execPath, [...process.execArgv, fileURLToPath(new URL('cli.ts', src)), 'sync', '--help'], { stdio: 'ignore' });
const entryPoints = new Set(['cli.ts', 'command-line.ts', 'runtime/fill-compile-cache.ts']); // they would run
for (const file of (readdirSync(src, { recursive: true }) as string[]).sort()) {
  if (file.endsWith('.ts') && !entryPoints.has(file)) await import(new URL(file, src).href);
}
