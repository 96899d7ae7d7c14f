import { execFileSync } from 'node:child_process';
import { availableParallelism } from 'node:os';

/**
 * Pins a process (all its threads) to CPUs with `taskset`, so that the app under test and the
 * load generator with Redis do not compete for a core. Child processes inherit it. False when
 * that is not possible (one CPU, or no taskset).
 */
export function pin(pid: number | undefined, cpus: number | 'all'): boolean {
  if (pid === undefined || availableParallelism() < 2) return false;
  const list = cpus === 'all' ? `0-${availableParallelism() - 1}` : String(cpus);
  try {
    execFileSync('taskset', ['-a', '-p', '-c', list, String(pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
