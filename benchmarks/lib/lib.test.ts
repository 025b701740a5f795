import { describe, expect, it } from 'vitest';
import { decodeWire, encodeWire, readingType } from './avro.ts';
import { evReadings, EV_SENSORS, roundRobin, SAMPLE_PERIOD_MS } from './fixtures.ts';
import { formatBytes, formatCount, formatNs, formatRatio, formatTargets } from './format.ts';
import { formatMachine, machineInfo } from './machine.ts';
import { measure, measureInterleaved, median } from './timing.ts';

describe('benchmark helpers', () => {
  it('formats counts, times, sizes and ratios', () => {
    expect(formatCount(1234567.6)).toBe('1,234,568');
    expect(formatNs(812)).toBe('812 ns');
    expect(formatNs(3912.4)).toBe('3.91 µs');
    expect(formatNs(337_000)).toBe('337 µs');
    expect(formatNs(2_500_000)).toBe('2.50 ms');
    expect(formatBytes(1000)).toBe('1000 B');
    expect(formatBytes(3504)).toBe('3.42 KiB');
    expect(formatBytes(6 * 1024 ** 3)).toBe('6.00 GiB');
    expect(formatRatio(2.614)).toBe('2.61×');
    expect(formatRatio(412.4)).toBe('412×');
  });

  it('renders target checks with PASS and MISS', () => {
    expect(
      formatTargets([
        { name: 'a', measured: '1.5×', target: '≤ 2×', pass: true },
        { name: 'longer', measured: '80×', target: '≥ 100×', pass: false },
      ]),
    ).toBe('  a       1.5×  target ≤ 2×    PASS\n  longer   80×  target ≥ 100×  MISS');
  });

  it('takes the median, and measure() reports the median rate of the timed runs only', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(() => median([])).toThrow(new RangeError('median of an empty list'));
    const seen: number[] = [];
    const m = measure((rep) => (seen.push(rep), 1000), { warmups: 2, repetitions: 3 });
    expect(seen).toEqual([0, 1, 2, 3, 4]);
    expect(m.repetitions).toHaveLength(3);
    expect(m.opsPerRepetition).toBe(1000);
    expect(m.opsPerSec).toBe(median(m.repetitions));
    expect(m.nsPerOp).toBeCloseTo(1e9 / m.opsPerSec, 6);
  });

  it('measureInterleaved() runs every benchmark once per repetition, in turn, and keeps each one\'s timed runs apart', () => {
    const seen: string[] = [];
    const m = measureInterleaved(
      { a: (rep) => (seen.push(`a${rep}`), 100), b: (rep) => (seen.push(`b${rep}`), 200) },
      { warmups: 1, repetitions: 3 },
    );
    expect(seen).toEqual(['a0', 'b0', 'a1', 'b1', 'a2', 'b2', 'a3', 'b3']);
    expect(m.a.repetitions).toHaveLength(3);
    expect(m.b.opsPerRepetition).toBe(200);
    expect(m.a.opsPerSec).toBe(median(m.a.repetitions));
    expect(m.b.nsPerOp).toBeCloseTo(1e9 / m.b.opsPerSec, 6);
  });

  it('describes the machine', () => {
    const m = machineInfo();
    expect(m.node).toBe(process.version);
    expect(formatMachine(m)).toMatch(/^machine: .+\ncpu: {5}.+ \(\d+ logical CPUs\), [\d.]+ GiB RAM\nnode: {4}v\d+/);
  });
});

describe('benchmark fixtures', () => {
  it('are deterministic, one a minute, 8 sensors, and continue a series across batches', () => {
    const a = evReadings(3, 0, 100);
    expect(evReadings(3, 0, 100)).toEqual(a);
    expect(Object.keys(a[0]!.values)).toEqual([...EV_SENSORS]);
    expect(a[1]!.ts - a[0]!.ts).toBe(SAMPLE_PERIOD_MS);
    expect(evReadings(3, 100, 1)[0]!.ts).toBe(a[99]!.ts + SAMPLE_PERIOD_MS);
    expect(roundRobin([a.slice(0, 2), evReadings(4, 0, 3)]).map((r) => r.assetId)).toEqual([
      'bench-ev-0000003',
      'bench-ev-0000004',
      'bench-ev-0000003',
      'bench-ev-0000004',
    ]);
  });

  it('round-trip through the Confluent wire format with the project schema', () => {
    const type = readingType();
    const readings = evReadings(1, 0, 5);
    const wire = encodeWire(type, readings, 42);
    expect(wire[0]!.subarray(0, 5)).toEqual(Buffer.from([0, 0, 0, 0, 42]));
    expect(wire.map((b) => decodeWire(type, b))).toEqual(readings.map((reading) => ({ schemaId: 42, reading: { ...reading } })));
    expect(() => decodeWire(type, Buffer.from([1, 0, 0, 0, 1, 0]))).toThrow(new Error('not in the Confluent wire format (magic byte 0)'));
  });
});
