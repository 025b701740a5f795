/**
 * Progress of `pdm replay` on stderr: records (Kafka) or bytes (CSV) read of the total, and
 * the rate. At most one update per second and none in the first second, so a short replay
 * stays silent; on a terminal one line is rewritten in place, in a log each update is a line.
 */
import type { Writable } from 'node:stream';
import { formatBytes, PROGRESS_INTERVAL_MS } from './progress.ts';

const group = (n: number): string => Math.round(n).toLocaleString('en-US');

/** Progress reporter of one replay; call its methods often (they are cheap), {@link done} once. */
export class ReplayProgress {
  private readonly startMs = performance.now();
  private lastMs = this.startMs;
  private shown = false;
  private readonly tty: boolean;

  /**
   * @param out stderr
   * @param mode true always, false never, undefined: on a terminal, or once a read holds `largeRead` records or more
   * @param largeRead records from which a Kafka read shows progress off a terminal
   */
  constructor(
    private readonly out: Writable & { isTTY?: boolean },
    private readonly mode: boolean | undefined,
    private readonly largeRead: number,
  ) {
    this.tty = out.isTTY === true;
  }

  /** `read` of `total` records of `topic` are read. */
  records(topic: string, read: number, total: number): void {
    if (!this.due(total >= this.largeRead)) return;
    const s = (performance.now() - this.startMs) / 1000;
    const share = total > 0 ? ` (${((100 * read) / total).toFixed(1)}%)` : '';
    this.write(`pdm replay: ${topic}: ${group(read)} of ${group(total)} records${share}, ${group(read / s)} records/s`);
  }

  /** `bytes` of the CSV `input` are read (of `size`, when known). */
  bytes(input: string, bytes: number, size: number | undefined): void {
    if (!this.due(false)) return;
    const of = size === undefined ? '' : ` of ${formatBytes(size)} (${((100 * bytes) / Math.max(1, size)).toFixed(1)}%)`;
    this.write(`pdm replay: ${input === '-' ? 'stdin' : input}: ${formatBytes(bytes)}${of} read`);
  }

  /** Ends the progress line on a terminal. */
  done(): void {
    if (this.shown && this.tty) this.out.write('\n');
  }

  private due(large: boolean): boolean {
    const on = this.mode ?? (this.tty || large);
    if (!on) return false;
    const now = performance.now();
    if (now - this.lastMs < PROGRESS_INTERVAL_MS) return false;
    this.lastMs = now;
    return true;
  }

  private write(line: string): void {
    this.shown = true;
    this.out.write(this.tty ? `\r\x1b[K${line}` : `${line}\n`);
  }
}
