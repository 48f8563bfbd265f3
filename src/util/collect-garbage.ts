// A full garbage collection on demand, for a long-running loop at the moment its big temporaries die. A watch builds
// copies of its 50k-entry file map each window; they live through the window, so V8 promotes them to the old
// generation and grows that by the garbage until its next full collection: a 50k-object watch crept from 205 to
// 225 MB RSS over 20 minutes with 35 MB live (bench/README.md "Watch mode"). Collected after each window, the heap
// stays near what is live. V8's gc() exposed at run time (Node and Deno both allow it); a no-op where refused.
import v8 from 'node:v8';
import vm from 'node:vm';

let gc: (() => void) | null | undefined;

export function collectGarbage(): void {
  if (gc === undefined) {
    try {
      v8.setFlagsFromString('--expose-gc');
      gc = vm.runInNewContext('gc') as () => void;
    } catch {
      gc = null;
    }
  }
  gc?.();
}
