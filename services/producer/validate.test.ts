/**
 * The producer's checks before send: exact messages for schema mismatches, for what the
 * scorer refuses, and for timestamps that are certainly wrong; and what is let through on
 * purpose (NaN and infinite values, names the pipeline may not know).
 */
import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { loadSchemaText } from '../kafka/codec.ts';
import { ServiceConfigError } from '../runtime/errors.ts';
import { compileProducerSettings, DEFAULT_PRODUCER } from './producer.ts';
import { describeRecord, maintenanceProblems, readingProblems } from './validate.ts';

const READING = avro.Type.forSchema(JSON.parse(loadSchemaText('reading')) as avro.Schema);
const MAINTENANCE = avro.Type.forSchema(JSON.parse(loadSchemaText('maintenance')) as avro.Schema);
const NOW = Date.UTC(2026, 11, 1, 8, 0, 0);
const ok = { assetId: 'EV-0001', assetType: 'passenger_ev', ts: NOW - 60_000, values: { battery_cell_temp_c: 31.5 } };

describe('readingProblems', () => {
  it('accepts a good reading, and NaN or infinite values (the pipeline flags those itself)', () => {
    expect(readingProblems(READING, ok, NOW, 300_000)).toEqual([]);
    expect(readingProblems(READING, { ...ok, values: { a: NaN, b: Infinity, c: -Infinity } }, NOW, 300_000)).toEqual([]);
  });

  it('names every schema mismatch with its path, value and expected type', () => {
    const bad = { assetId: 'EV-0001', ts: 1.5, values: { battery_cell_temp_c: 'hot', motor_temp_c: 60 } };
    expect(readingProblems(READING, bad, NOW, 300_000)).toEqual([
      'assetType: missing (expected string)',
      'ts: 1.5 (expected long)',
      'values.battery_cell_temp_c: "hot" (expected double)',
    ]);
  });

  it('refuses what Avro allows but the scorer dead-letters', () => {
    expect(readingProblems(READING, { ...ok, assetId: ' ' }, NOW, 300_000)).toEqual(['assetId is empty']);
    expect(readingProblems(READING, { ...ok, assetId: 'EV\n1' }, NOW, 300_000)).toEqual(['assetId "EV\\n1" contains control characters']);
    expect(readingProblems(READING, { ...ok, assetType: '' }, NOW, 300_000)).toEqual(['assetType is empty']);
  });

  it('refuses epoch seconds and a clock running ahead, and lets simulated time through when unbounded', () => {
    expect(readingProblems(READING, { ...ok, ts: 1_764_576_000 }, NOW, 300_000)).toEqual([
      'ts 1764576000 is before 2000-01-01: ts is epoch milliseconds UTC (epoch seconds times 1000), and the device clock must be set',
    ]);
    const ahead = NOW + 600_000;
    expect(readingProblems(READING, { ...ok, ts: ahead }, NOW, 300_000)).toEqual([
      `ts ${ahead} (2026-12-01T08:10:00.000Z) is 600 s ahead of this clock (limit 300 s): a reading from the future makes every later reading of the asset out of order until that time`,
    ]);
    expect(readingProblems(READING, { ...ok, ts: ahead }, NOW, undefined)).toEqual([]);
  });
});

describe('maintenanceProblems', () => {
  const ev = { assetId: 'EV-0001', ts: NOW, failureMode: null, sensors: null, source: 'device' };
  it('accepts a full service and a mode repair', () => {
    expect(maintenanceProblems(MAINTENANCE, ev, NOW, 0)).toEqual([]);
    expect(maintenanceProblems(MAINTENANCE, { ...ev, failureMode: 'battery_thermal_runaway', sensors: ['battery_cell_temp_c'] }, NOW, 0)).toEqual([]);
  });
  it('names schema mismatches and an empty asset id', () => {
    expect(maintenanceProblems(MAINTENANCE, { ...ev, sensors: 'battery_cell_temp_c' }, NOW, 0)).toEqual(['sensors: "battery_cell_temp_c" (expected null or an array)']);
    expect(maintenanceProblems(MAINTENANCE, { ...ev, assetId: '' }, NOW, 0)).toEqual(['assetId is empty']);
  });
});

describe('describeRecord', () => {
  it('names the asset and the time, or says what is missing', () => {
    expect(describeRecord('reading', ok)).toBe('reading of EV-0001 at 2026-12-01T07:59:00.000Z');
    expect(describeRecord('maintenance event', { ts: 'x' })).toBe('maintenance event of (no assetId) at x');
  });
});

describe('compileProducerSettings', () => {
  it('fills defaults', () => {
    expect(compileProducerSettings({})).toEqual(DEFAULT_PRODUCER);
    expect(compileProducerSettings({ batchSize: undefined, lingerMs: 0 }).lingerMs).toBe(0);
  });
  it('names every bad setting at once', () => {
    const err = (() => {
      try {
        compileProducerSettings({ topic: 'bad topic', batchSize: 0, lingerMs: -1, compression: 'zstd' as 'gzip', maxClockAheadMs: -5, maintenanceSource: ' ' });
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(ServiceConfigError);
    expect((err as ServiceConfigError).problems).toEqual([
      'topic="bad topic": not a valid topic name',
      'batchSize=0: must be an integer from 1 to 10000',
      'lingerMs=-1: must be an integer from 0 to 60000',
      "compression=zstd: must be gzip or none (the pipeline's consumers decode no other codec)",
      'maxClockAheadMs=-5: must be a number ≥ 0, or null',
      'maintenanceSource: empty',
    ]);
  });
});
