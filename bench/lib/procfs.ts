// CPU time and memory of processes, from /proc (Linux): what each part of the system spent.
import fs from 'node:fs';

const CLOCK_TICKS = 100; // sysconf(_SC_CLK_TCK) on Linux x86_64

/** The fields of /proc/<pid>/stat after the command name (which may hold spaces). */
function statFields(pid: number): string[] | null {
  try {
    const text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return text.slice(text.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

/**
 * CPU seconds of a process: user + system, plus its waited-for children's (so a PostgreSQL
 * postmaster counts the backends that have exited). 0 for a process that is gone.
 */
export function cpuSeconds(pid: number, withChildren = false): number {
  const f = statFields(pid);
  if (!f) return 0;
  // After the name: state(0) ppid(1) … utime(11) stime(12) cutime(13) cstime(14)
  const ticks = Number(f[11]) + Number(f[12]) + (withChildren ? Number(f[13]) + Number(f[14]) : 0);
  return ticks / CLOCK_TICKS;
}

/** Resident memory in bytes, or 0 for a process that is gone. */
export function rssBytes(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** Processes whose command line matches. */
export function findPids(match: (cmdline: string, comm: string) => boolean): number[] {
  const pids: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ');
      const comm = fs.readFileSync(`/proc/${entry}/comm`, 'utf8').trim();
      if (match(cmdline, comm)) pids.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return pids;
}

/**
 * The whole PostgreSQL server's CPU seconds: the postmaster with its exited backends, plus the
 * live backends and helpers. Counts every database on the server, so measure on a quiet one.
 */
export function postgresCpuSeconds(): number {
  const pids = findPids((_cmd, comm) => comm === 'postgres' || comm === 'postmaster');
  const ppidOf = (pid: number) => Number(statFields(pid)?.[1] ?? 0);
  const postmasters = pids.filter((pid) => !pids.includes(ppidOf(pid)));
  return postmasters.reduce((sum, pid) => sum + cpuSeconds(pid, true), 0) + pids.filter((pid) => !postmasters.includes(pid)).reduce((sum, pid) => sum + cpuSeconds(pid), 0);
}
