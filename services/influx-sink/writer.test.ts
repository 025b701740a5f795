/**
 * Unit tests of the sink's decisions that need no server: how an InfluxDB answer is
 * classified (retry, dead-letter, stop), how Retry-After is read, and which option
 * combinations the sink refuses at start.
 */
import { describe, expect, it } from 'vitest';
import { ServiceConfigError } from '../runtime/errors.ts';
import { topicNames } from '../kafka/topics.ts';
import { compileSinkOptions, DEFAULT_INFLUX_SINK, type InfluxSinkOptions } from './sink.ts';
import { parseRetryAfter, verdictOf, type WriteVerdict } from './writer.ts';

describe('verdictOf', () => {
  const table: [number, WriteVerdict][] = [
    [500, 'retriable'],
    [502, 'retriable'],
    [503, 'retriable'],
    [504, 'retriable'],
    [429, 'retriable'],
    [408, 'retriable'],
    [400, 'rejected'], // bad line protocol, field type conflict, partial write
    [413, 'rejected'], // batch too large: split it
    [422, 'rejected'], // 2.x: points outside the retention period
    [401, 'fatal'],
    [403, 'fatal'],
    [404, 'fatal'], // no such database / bucket
    [405, 'fatal'],
  ];
  it.each(table)('HTTP %i is %s', (status, verdict) => {
    expect(verdictOf(status)).toBe(verdict);
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  const table: [string | null, number | undefined][] = [
    [null, undefined],
    ['', undefined],
    ['0', 0],
    ['3', 3_000],
    [' 12 ', 12_000],
    ['Thu, 01 Jan 2026 00:00:05 GMT', 5_000],
    ['Wed, 31 Dec 2025 23:59:00 GMT', 0], // already past
    ['soon', undefined],
  ];
  it.each(table)('Retry-After %j is %j ms', (header, ms) => {
    expect(parseRetryAfter(header, now)).toBe(ms);
  });
});

describe('compileSinkOptions', () => {
  const base: InfluxSinkOptions = {
    brokers: ['127.0.0.1:9092'],
    registryUrl: 'http://127.0.0.1:8081/apis/ccompat/v7',
    topics: topicNames(),
    influx: { url: 'http://127.0.0.1:8086', org: 'pdm', bucket: 'pdm/autogen', token: 'u:p' },
  };

  it('fills in the documented defaults and freezes the result', () => {
    const c = compileSinkOptions({ ...base, batchSize: undefined });
    expect(c).toMatchObject(DEFAULT_INFLUX_SINK);
    expect(c.batchSize).toBe(5_000);
    expect(c.flushIntervalMs).toBe(1_000);
    expect(c.groupId).toBe('pdm-influx-sink');
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('names every problem at once', () => {
    let err: unknown;
    try {
      compileSinkOptions({
        ...base,
        brokers: [],
        influx: { ...base.influx, url: 'ftp://x', token: '' },
        batchSize: 0,
        minDelayMs: 5_000,
        maxDelayMs: 1_000,
        writeTimeoutMs: 30_000,
      });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ServiceConfigError);
    expect((err as ServiceConfigError).problems).toEqual([
      'brokers: at least one host:port is needed',
      'influx.url=ftp://x: must be an http(s) URL',
      'influx.token: empty',
      'batchSize=0: must be an integer from 1 to 100000',
      'minDelayMs=5000 is above maxDelayMs=1000',
    ]);
  });
});
