// CPU time, beside wall time: on a machine whose cores the API server shares, CPU a sync adds shows in its time.
import { readFileSync } from 'node:fs';

/** CPU used since `cpu` / `mainCpu` were taken: the whole process (GC and I/O threads too) and its main thread. */
export function cpuMs(cpu: NodeJS.CpuUsage, mainCpu: NodeJS.CpuUsage): { cpuMs: number; mainCpuMs: number } {
  const total = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1000;
  return { cpuMs: total(process.cpuUsage(cpu)), mainCpuMs: total(process.threadCpuUsage(mainCpu)) };
}

/** CPU (ms) the processes with these pid files have used so far, from /proc; undefined where /proc is missing. */
export function processCpuMs(pidFiles: string[]): number | undefined {
  const readFile = (f: string) => readFileSync(f, 'utf8');
  try {
    let ticks = 0;
    for (const f of pidFiles) {
      // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
      const stat = readFile(`/proc/${readFile(f).trim()}/stat`);
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    }
    return ticks * 10; // clock ticks: USER_HZ is 100 on Linux
  } catch {
    return undefined;
  }
}
