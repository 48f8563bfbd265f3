// Who holds a repository lock, written so another process can tell when the holder is provably gone.
// A pid alone names nothing: in a container kubetrail is PID 1 in every incarnation, and pods sharing a volume each
// have their own PID numbers. On Linux (boot id, PID namespace, pid, process start time) names one process; a
// process may only judge a holder by pid when it sees the same kernel and the same PID namespace.
import { readFileSync, readlinkSync } from 'node:fs';
import { hostname } from 'node:os';

export interface LockHolder {
  /** Random, per lock taken: what release and the heartbeat compare. */
  run: string;
  /** When the run took the lock (ISO time), for people reading the file. */
  started: string;
  pid: number;
  host: string;
  /** Linux only: the kernel's boot id, the PID namespace and the process start time (clock ticks since boot). */
  boot?: string;
  pidns?: string;
  pstart?: string;
}

const read = (file: string) => {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    return undefined;
  }
};

/** A process's start time from /proc (field 22 of stat, after the command name, which may hold spaces). */
function processStart(pid: number | 'self'): string | undefined {
  const stat = read(`/proc/${pid}/stat`);
  return stat?.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
}

/** This process's Linux identity, when /proc shows our own PID namespace (a /proc of another namespace does not). */
function linuxIdentity(): Pick<LockHolder, 'boot' | 'pidns' | 'pstart'> {
  if (process.platform !== 'linux') return {};
  try {
    if (readlinkSync('/proc/self') !== String(process.pid)) return {};
    const boot = read('/proc/sys/kernel/random/boot_id');
    const pidns = readlinkSync('/proc/self/ns/pid');
    const pstart = processStart('self');
    return boot && pstart ? { boot, pidns, pstart } : {};
  } catch {
    return {};
  }
}

export function currentHolder(run: string): LockHolder {
  return { run, started: new Date().toISOString(), pid: process.pid, host: hostname(), ...linuxIdentity() };
}

/** Parses a lock file: ours (JSON), or the `pid host` line older kubetrail versions wrote. */
export function parseHolder(content: string): Partial<LockHolder> {
  try {
    const parsed = JSON.parse(content) as Partial<LockHolder>;
    if (parsed && typeof parsed === 'object') return parsed;
  } catch { /* the older format */ }
  const [pid, host] = content.trim().split(' ');
  return { pid: Number(pid), host };
}

export function describeHolder(h: Partial<LockHolder>): string {
  return [h.pid !== undefined && `pid ${h.pid}`, h.host && `on ${h.host}`, h.started && `since ${h.started}`].filter(Boolean).join(' ') || 'unknown';
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * True only when the holder's process is certainly gone: same host, same kernel, same PID namespace, and no process
 * with its pid and start time. Anything else (another pod, another PID namespace such as a restarted container's
 * new PID 1, a lock from an older version) is judged by its heartbeat alone. `ours` holds the runs of this process.
 */
export function holderGone(h: Partial<LockHolder>, ours: ReadonlySet<string>): boolean {
  if (h.host !== hostname() || typeof h.pid !== 'number' || !Number.isInteger(h.pid)) return false;
  if (process.platform === 'linux') {
    const me = linuxIdentity();
    if (!me.pidns || h.boot !== me.boot || h.pidns !== me.pidns || !h.pstart) return false;
    if (h.pid === process.pid && h.pstart === me.pstart) return !ours.has(h.run ?? '');
    return processStart(h.pid) !== h.pstart; // none, or a newer process that reused the pid
  }
  // Without PID namespaces (macOS, BSD) host and pid name a process, short of pid reuse (then: the heartbeat).
  return h.pid === process.pid ? !ours.has(h.run ?? '') : !alive(h.pid);
}
