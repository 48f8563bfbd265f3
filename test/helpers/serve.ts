// `kubetrail serve` as a separate process (under the test run's runtime), on a port it picks itself.
import { listeningPort } from './listening.ts';
import { spawnCli } from './testenv.ts';

/** Starts `kubetrail serve` and resolves with its port once it listens. */
export function startServe(args: string[], env: Record<string, string>) {
  const child = spawnCli(['serve', ...args, ...(args.includes('--port') ? [] : ['--port', '0'])], { env });
  const { port, stderr } = listeningPort(child);
  const stop = () => new Promise<void>((r) => { child.once('exit', () => r()); child.kill('SIGTERM'); });
  return { port, stop, stderr };
}
