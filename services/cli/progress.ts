/**
 * Progress on stderr for long `pdm score` runs: rows, rows per second, and the share of the
 * input file read when its size is known. At most one update per second, and none in the
 * first second, so short runs stay silent. On a terminal the line is rewritten in place; in
 * a log (stderr not a TTY) each update is its own line.
 */
import type { Writable } from 'node:stream';

/** Minimum time between two updates, ms. */
export const PROGRESS_INTERVAL_MS = 1_000;

/** Formats bytes as a short human size (KiB, MiB, GiB; powers of 1024). */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${u === 0 ? v : v.toFixed(1)} ${units[u]}`;
}

const groupDigits = (n: number): string => Math.round(n).toLocaleString('en-US');

/** Progress reporter; call {@link tick} often (it is cheap), {@link finish} once. */
export class Progress {
  private readonly startMs = performance.now();
  private lastMs = this.startMs;
  private shown = false;

  /**
   * @param out where to write (stderr)
   * @param label prefix of every line, e.g. "pdm score"
   * @param totalBytes input size in bytes when known (a file), for the percentage and ETA
   * @param enabled false makes every call a no-op
   * @param tty rewrite one line in place (true) or append lines (false)
   */
  constructor(
    private readonly out: Writable,
    private readonly label: string,
    private readonly totalBytes: number | undefined,
    readonly enabled: boolean,
    private readonly tty: boolean,
  ) {}

  /** Reports `rows` done and `bytes` of input read, if an update is due. */
  tick(rows: number, bytes: number): void {
    if (!this.enabled) return;
    const now = performance.now();
    if (now - this.lastMs < PROGRESS_INTERVAL_MS) return;
    this.lastMs = now;
    const seconds = (now - this.startMs) / 1000;
    let line = `${this.label}: ${groupDigits(rows)} rows, ${groupDigits(rows / seconds)} rows/s`;
    if (this.totalBytes !== undefined && this.totalBytes > 0) {
      const share = Math.min(1, bytes / this.totalBytes);
      const etaS = share > 0 ? (seconds / share) * (1 - share) : NaN;
      line += `, ${(share * 100).toFixed(1)}% of ${formatBytes(this.totalBytes)}`;
      if (Number.isFinite(etaS)) line += `, ${Math.ceil(etaS)} s left`;
    }
    this.write(line);
    this.shown = true;
  }

  /**
   * Prints the closing summary (rows, time, rate, peak memory) when progress was shown or
   * `force` is set; the summary is what a log keeps of a backfill.
   */
  finish(rows: number, extra: string, force: boolean): void {
    if (!this.enabled || (!this.shown && !force)) return;
    const seconds = (performance.now() - this.startMs) / 1000;
    // maxRSS is in KiB on every platform Node supports.
    const peakRss = process.resourceUsage().maxRSS * 1024;
    const rate = seconds > 0 ? groupDigits(rows / seconds) : '-';
    const line =
      `${this.label}: ${groupDigits(rows)} rows in ${seconds.toFixed(1)} s (${rate} rows/s), ` +
      `peak RSS ${formatBytes(peakRss)}${extra}`;
    if (this.tty && this.shown) this.out.write('\r\x1b[K');
    this.out.write(`${line}\n`);
  }

  private write(line: string): void {
    this.out.write(this.tty ? `\r\x1b[K${line}` : `${line}\n`);
  }
}
