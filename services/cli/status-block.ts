/**
 * The demo's live status: one block of lines, one per stage, at most 80 columns wide. On a
 * terminal the block is redrawn in place every second (cursor up, clear, rewrite); in a log
 * (not a TTY) it is printed as plain lines every `pipedEveryMs`, so a CI log shows the
 * progress without a line every second.
 */
import type { Writable } from 'node:stream';
import type { DemoStatus } from '../demo/demo.ts';

/** Widest a status line may be: an 80-column terminal, without wrapping. */
export const STATUS_WIDTH = 80;

const n = (v: number): string => (Number.isFinite(v) ? Math.round(v).toLocaleString('en-US') : '?');

/** The block for a status, each line at most STATUS_WIDTH characters. */
export function renderStatus(s: DemoStatus): string[] {
  const lines = [
    `demo ${s.final ? 'done' : 'running'} ${s.elapsedSec.toFixed(0)} s · simulated day ${s.simulatedDay.toFixed(1)} of ${s.days}`,
    `  publish  ${n(s.published)} readings`,
    `  scorer   ${n(s.scored)} scored, ${n(s.scoredPerSec)}/s, lag ${n(s.scorerLag)}, anomalies ${n(s.anomalies)}`,
    `  sink     ${n(s.influxPoints)} points in InfluxDB, lag ${n(s.sinkLag)} records`,
    `  cases    ${n(s.cases)} opened, ${n(s.raised)} raised of ${n(s.predictions)} predictions, lag ${n(s.openerLag)}`,
    `  dead letters ${n(s.deadLetters)}`,
  ];
  return lines.map((l) => (l.length > STATUS_WIDTH ? `${l.slice(0, STATUS_WIDTH - 1)}…` : l));
}

export class StatusBlock {
  private drawn = 0;
  private lastPiped = -Infinity;

  /**
   * @param out where to write (stderr)
   * @param tty redraw in place (true) or print plain lines (false)
   * @param pipedEveryMs least time between two blocks when not a TTY
   */
  constructor(
    private readonly out: Writable,
    private readonly tty: boolean,
    private readonly pipedEveryMs = 5_000,
    private readonly now: () => number = Date.now,
  ) {}

  update(s: DemoStatus): void {
    const lines = renderStatus(s);
    if (!this.tty) {
      const t = this.now();
      if (!s.final && t - this.lastPiped < this.pipedEveryMs) return;
      this.lastPiped = t;
      this.out.write(`${lines.join('\n')}\n`);
      return;
    }
    let text = this.drawn > 0 ? `\x1b[${this.drawn}A` : '';
    for (const l of lines) text += `\r\x1b[K${l}\n`;
    // A shorter block than the last: clear what is left of it.
    for (let i = lines.length; i < this.drawn; i++) text += '\r\x1b[K\n';
    if (this.drawn > lines.length) text += `\x1b[${this.drawn - lines.length}A`;
    this.out.write(text);
    this.drawn = lines.length;
  }

  /** A message above the block (a missed failure, a warning): printed once, the block redrawn below it on the next update. */
  message(line: string): void {
    if (this.tty && this.drawn > 0) {
      this.out.write(`\x1b[${this.drawn}A\r\x1b[J`);
      this.drawn = 0;
    }
    this.out.write(`${line}\n`);
  }
}
