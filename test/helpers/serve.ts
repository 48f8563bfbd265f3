// `kubetrail serve` as a separate process (under the test run's runtime), on a port it picks itself.
import { spawnCli } from './testenv.ts';

/** Starts `kubetrail serve` and resolves with its port once it listens. */
export function startServe(args: string[], env: Record<string, string>) {
  const child = spawnCli(['serve', ...args, ...(args.includes('--port') ? [] : ['--port', '0'])], { env });
  let stderr = '';
  const port = new Promise<number>((resolve, reject) => {
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d;
      const m = stderr.match(/"msg":"listening","port":(\d+)/);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`serve exited ${code}: ${stderr}`)));
  });
  const stop = () => new Promise<void>((r) => { child.once('exit', () => r()); child.kill('SIGTERM'); });
  return { port, stop, stderr: () => stderr };
}
