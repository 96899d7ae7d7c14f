import { readdirSync, readFileSync } from 'node:fs';

/**
 * CPU time a process has used so far, in microseconds: the sum over its threads of
 * `/proc/<pid>/task/<tid>/schedstat`'s first field (nanoseconds on a CPU). For redis-server that
 * is its whole load: network, parsing, scripts, Pub/Sub delivery. `undefined` where /proc is not
 * available.
 */
export function processCpuMicros(pid: number | undefined): number | undefined {
  if (pid === undefined) {
    return undefined;
  }
  try {
    let nanoseconds = 0;
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const schedstat = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8');
      nanoseconds += Number(schedstat.split(' ')[0]);
    }
    return nanoseconds / 1000;
  } catch {
    return undefined;
  }
}
