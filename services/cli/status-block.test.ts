/**
 * The demo's status block: every line within 80 columns whatever the figures, redrawn in place
 * on a terminal, printed as plain lines at most every few seconds (and at the end) in a log.
 */
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { DemoStatus } from '../demo/demo.ts';
import { renderStatus, STATUS_WIDTH, StatusBlock } from './status-block.ts';

const status = (over: Partial<DemoStatus> = {}): DemoStatus => ({
  elapsedSec: 12.4,
  simulatedDay: 3.25,
  days: 14,
  published: 100_000,
  scored: 95_000,
  scoredPerSec: 20_000,
  scorerLag: 5_000,
  anomalies: 120,
  influxPoints: 180_000,
  sinkLag: 12,
  predictions: 9,
  raised: 3,
  cases: 2,
  openerLag: 0,
  deadLetters: 4,
  final: false,
  ...over,
});

function sink() {
  let text = '';
  const out = new Writable({
    write(chunk, _enc, cb) {
      text += String(chunk);
      cb();
    },
  });
  return { out, text: () => text };
}

describe('renderStatus', () => {
  it('names each stage with its progress and lag', () => {
    expect(renderStatus(status())).toEqual([
      'demo running 12 s · simulated day 3.3 of 14',
      '  publish  100,000 readings',
      '  scorer   95,000 scored, 20,000/s, lag 5,000, anomalies 120',
      '  sink     180,000 points in InfluxDB, lag 12 records',
      '  cases    2 opened, 3 raised of 9 predictions, lag 0',
      '  dead letters 4',
    ]);
  });

  it('stays within 80 columns with huge figures, and says ? for a lag it could not read', () => {
    const big = 1e15;
    const lines = renderStatus(status({ published: big, scored: big, scoredPerSec: big, scorerLag: NaN, anomalies: big, influxPoints: big, sinkLag: big, predictions: big, raised: big, cases: big }));
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(STATUS_WIDTH);
    expect(lines[2]).toContain('lag ?');
  });
});

describe('StatusBlock', () => {
  it('redraws the block in place on a terminal', () => {
    const s = sink();
    const block = new StatusBlock(s.out, true);
    block.update(status());
    block.update(status({ published: 200_000 }));
    const second = s.text().split('\x1b[6A')[1]!;
    expect(second).toContain('\r\x1b[K  publish  200,000 readings\n');
    expect(s.text().match(/\n/g)).toHaveLength(12);
  });

  it('prints plain blocks at most every pipedEveryMs in a log, and always the final one', () => {
    const s = sink();
    let t = 0;
    const block = new StatusBlock(s.out, false, 5_000, () => t);
    block.update(status());
    t = 1_000;
    block.update(status({ published: 1 }));
    t = 2_000;
    block.update(status({ final: true }));
    expect(s.text()).not.toContain('\x1b');
    expect(s.text().split('\n').filter((l) => l.startsWith('demo '))).toEqual(['demo running 12 s · simulated day 3.3 of 14', 'demo done 12 s · simulated day 3.3 of 14']);
  });
});
