import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';

/**
 * Pins a process (all its threads) and the children it already has (the sample's node:cluster
 * workers, when WORKERS > 1) to CPUs with `taskset`, so that the app under test and the load generator with Redis
 * do not compete for a core. Children started later inherit it. False when that is not possible
 * (one CPU, or no taskset).
 */
export function pin(pid: number | undefined, to: number | 'all'): boolean {
  // the machine's CPUs: availableParallelism() counts those this process may use, which is one
  // once it has pinned itself, and every later pin() then did nothing
  const count = cpus().length;
  if (pid === undefined || count < 2) {
    return false;
  }
  const list = to === 'all' ? `0-${count - 1}` : String(to);
  try {
    execFileSync('taskset', ['-a', '-p', '-c', list, String(pid)], { stdio: 'ignore' });
  } catch {
    return false;
  }
  return children(pid).every((child) => pin(child, to));
}

function children(pid: number): number[] {
  try {
    const out = execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' });
    return out.split('\n').filter(Boolean).map(Number);
  } catch {
    return []; // pgrep exits 1 when there are none
  }
}
