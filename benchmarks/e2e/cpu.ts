/**
 * CPU time of processes from /proc (Linux): the services the benchmark starts and the stack's
 * servers (their pids from the stack's pid files), so that a phase can say how many µs of CPU
 * each part spends per reading: where a 2-core machine's budget goes, and what the sizing
 * guide scales from.
 */
import { readFileSync } from 'node:fs';
import { PART_NAMES } from '../../infra/stack/stack.ts';
import { pidFile, stackRoot } from '../../infra/stack/paths.ts';

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

/** utime + stime of a process, seconds; NaN when it cannot be read (gone, not Linux). */
export function cpuSeconds(pid: number | undefined): number {
  if (!pid) return NaN;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command (which may hold spaces) start after the last ')'.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / TICKS_PER_SECOND;
  } catch {
    return NaN;
  }
}

/** The stack's servers' pids, by part name (those running). */
export function stackPids(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const part of PART_NAMES) {
    try {
      out[part] = (JSON.parse(readFileSync(pidFile(stackRoot(), part), 'utf8')) as { pid: number }).pid;
    } catch {
      /* not running */
    }
  }
  return out;
}

/** CPU seconds per named process between two snapshots. */
export function cpuDelta(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.keys(after).map((k) => [k, after[k]! - (before[k] ?? 0)]));
}
