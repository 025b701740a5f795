/**
 * The machine a benchmark ran on, printed above its figures: a number means little without
 * the CPU, the OS and the Node version that produced it (pino's benchmarks do the same).
 */
import { arch, cpus, platform, release, totalmem, type } from 'node:os';

/** Description of the host; all fields are plain strings or numbers for JSON output. */
export interface MachineInfo {
  os: string;
  arch: string;
  release: string;
  cpuModel: string;
  /** Logical CPUs visible to the process. */
  cpus: number;
  /** Total physical memory, bytes. */
  totalMemBytes: number;
  node: string;
  v8: string;
}

/** Reads the host description. */
export function machineInfo(): MachineInfo {
  const list = cpus();
  return {
    os: `${type()} (${platform()})`,
    arch: arch(),
    release: release(),
    cpuModel: list[0]?.model.trim() ?? 'unknown',
    cpus: list.length,
    totalMemBytes: totalmem(),
    node: process.version,
    v8: process.versions.v8,
  };
}

/** One line per field, for the head of a report. */
export function formatMachine(m: MachineInfo): string {
  return [
    `machine: ${m.os} ${m.arch}, kernel ${m.release}`,
    `cpu:     ${m.cpuModel} (${m.cpus} logical CPUs), ${(m.totalMemBytes / 2 ** 30).toFixed(1)} GiB RAM`,
    `node:    ${m.node} (V8 ${m.v8})`,
  ].join('\n');
}
