// One writer per repository: a lock file holding the owner's pid. A lock whose process is gone (kill -9) is stale.
import { hostname } from 'node:os';
import { readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface RepoLock { release(): Promise<void> }

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Waits up to `waitMs` for the lock, then fails naming the holder. */
export async function lockRepo(gitdir: string, waitMs = 0): Promise<RepoLock> {
  const file = join(gitdir, 'kubetrail.lock');
  const me = `${process.pid} ${hostname()}`;
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      await writeFile(file, `${me}\n`, { flag: 'wx' });
      return { release: () => unlink(file).catch(() => {}) };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const holder = (await readFile(file, 'utf8').catch(() => '')).trim();
    const [pid, host] = holder.split(' ');
    if (holder && host === hostname() && !alive(Number(pid))) {
      await unlink(file).catch(() => {}); // left by a run that was killed
      continue;
    }
    if (Date.now() >= deadline) {
      throw new Error(`repository ${gitdir} is locked by another kubetrail run (${holder || 'unknown'}); remove ${file} if no run is active`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
