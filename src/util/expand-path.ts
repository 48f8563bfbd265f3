// `~` and environment variables in a configured path, shared by config loading and cluster access.
import { homedir } from 'node:os';
import { join } from 'node:path';

/** Expands `~`, `$VAR` and `${VAR}` in a path. */
export function expandPath(path: string, env: Record<string, string | undefined>): string {
  const home = env.HOME || homedir();
  const expanded = path.replace(/\$\{(\w+)\}|\$(\w+)/g, (_, a, b) => env[a ?? b] ?? '');
  return expanded === '~' ? home : expanded.startsWith('~/') ? join(home, expanded.slice(2)) : expanded;
}
