// The port a `kubetrail serve` child listens on, from its "listening" log line (it picks a free one with --port 0).
import type { ChildProcess } from 'node:child_process';

/** Resolves with the port once the child logs it; rejects with its stderr when it exits first. */
export function listeningPort(child: ChildProcess): { port: Promise<number>; stderr: () => string } {
  let stderr = '';
  const port = new Promise<number>((resolve, reject) => {
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d;
      const m = stderr.match(/"msg":"listening","port":(\d+)/);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`kubetrail serve exited ${code}: ${stderr.slice(-2000)}`)));
  });
  return { port, stderr: () => stderr };
}
