import { execFileSync } from 'node:child_process';
import { availableParallelism } from 'node:os';

/**
 * Pins a process (all its threads) to one CPU with `taskset`, so that the app under test and
 * the load generator with Redis do not compete for a core. False when that is not possible.
 */
export function pin(pid: number | undefined, cpu: number): boolean {
  if (pid === undefined || availableParallelism() < 2) return false;
  try {
    execFileSync('taskset', ['-a', '-p', '-c', String(cpu), String(pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
