/**
 * The write queue's rules on their own, with scripted writes: commits in consumption order
 * whatever order the writes finish in, at most maxInFlight writes at once, retries without
 * limit while running, abandonment (and no later commit) during stop, bisection of a
 * rejected batch down to the refused record, and a fatal error halting every later commit.
 */
import { describe, expect, it } from 'vitest';
import { PoisonRecordError } from '../runtime/errors.ts';
import { WriteQueue, type Entry, type WriteQueueDeps } from './write-queue.ts';
import { InfluxWriteError } from './writer.ts';

const entry = (offset: number, lines = [`m,a=1 v=${offset} ${offset}`]): Entry => ({
  src: { topic: 't', partition: 0, offset: String(offset), key: null, value: null },
  lines,
});

const deferred = () => {
  let resolve!: () => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
};

const tick = () => new Promise((r) => setTimeout(r, 5));

const retriable = () => new InfluxWriteError('down', 'retriable', 503);
const rejected = () => new InfluxWriteError('bad line', 'rejected', 400);

function harness(write: (lines: string[]) => Promise<void>, opts: Partial<{ maxInFlight: number; maxRetries: number }> = {}) {
  const log: string[] = [];
  const deps: WriteQueueDeps = {
    write,
    commit: async (entries) => {
      log.push(`commit ${entries.map((e) => e.src.offset).join(',')}`);
    },
    deadLetter: async (e, err) => {
      log.push(`dlq ${e.src.offset}: ${err.reason}`);
    },
    onRetry: (_e, attempt) => log.push(`retry ${attempt}`),
    onRecovered: () => log.push('recovered'),
    onWritten: (entries, points) => log.push(`written ${entries.length} records ${points} points`),
    onAbandoned: (points, records) => log.push(`abandoned ${records} records ${points} points`),
    onFatal: (err) => log.push(`fatal ${(err as Error).message}`),
    onSettled: () => undefined,
  };
  const q = new WriteQueue(deps, { maxInFlight: opts.maxInFlight ?? 2, maxRetries: opts.maxRetries ?? 1, minDelayMs: 1, maxDelayMs: 2 });
  return { q, log };
}

describe('WriteQueue', () => {
  it('commits batches in submission order even when a later write finishes first', async () => {
    const gates = [deferred(), deferred()];
    let call = 0;
    const { q, log } = harness(() => gates[call++]!.promise);
    q.submit([entry(1), entry(2)]);
    q.submit([entry(3)]);
    expect(q.inFlight).toBe(2);
    expect(q.hasRoom).toBe(false);
    gates[1]!.resolve(); // the second write is accepted first
    await tick();
    expect(log.filter((l) => l.startsWith('commit'))).toEqual([]);
    gates[0]!.resolve();
    await q.drain();
    expect(log.filter((l) => l.startsWith('commit'))).toEqual(['commit 1,2', 'commit 3']);
    expect(q.inFlight).toBe(0);
  });

  it('retries a write InfluxDB cannot take until it succeeds, then reports the recovery', async () => {
    let attempts = 0;
    const { q, log } = harness(async () => {
      if (++attempts < 4) throw retriable();
    });
    q.submit([entry(7)]);
    await q.drain();
    expect(log).toEqual(['retry 1', 'retry 2', 'retry 3', 'recovered', 'written 1 records 1 points', 'commit 7']);
    expect(q.influxDown).toBe(false);
  });

  it('during stop gives up after maxRetries and commits neither that batch nor any later one', async () => {
    const first = deferred();
    let calls = 0;
    const { q, log } = harness(
      (lines) => {
        calls++;
        if (lines[0]!.includes('v=1 ')) return calls === 1 ? first.promise : Promise.reject(retriable());
        return Promise.resolve();
      },
      { maxRetries: 2 },
    );
    q.submit([entry(1)]);
    q.submit([entry(2)]);
    q.beginStop();
    first.reject(retriable());
    await q.drain();
    expect(log).toContain('abandoned 1 records 1 points');
    expect(log.filter((l) => l.startsWith('commit'))).toEqual([]);
    expect(q.abandonedPoints).toBe(1);
  });

  it('splits a rejected batch until the refused record is found, dead-letters it and writes the rest', async () => {
    const written: string[][] = [];
    const { q, log } = harness(async (lines) => {
      if (lines.some((l) => l.includes('v=3 '))) throw rejected();
      written.push(lines);
    });
    q.submit([entry(1), entry(2), entry(3), entry(4), entry(5, [])]);
    await q.drain();
    expect(log).toContain('dlq 3: invalid_value');
    expect(written.flat().sort()).toEqual(['m,a=1 v=1 1', 'm,a=1 v=2 2', 'm,a=1 v=4 4']);
    expect(log.at(-1)).toBe('commit 1,2,3,4,5');
  });

  it('halts on a fatal error: that batch and every later one stay uncommitted', async () => {
    const { q, log } = harness(async (lines) => {
      if (lines[0]!.includes('v=1 ')) throw new InfluxWriteError('401 unauthorized', 'fatal', 401);
    });
    q.submit([entry(1)]);
    q.submit([entry(2)]);
    await q.drain();
    expect(log).toContain('fatal 401 unauthorized');
    expect(log.filter((l) => l.startsWith('commit'))).toEqual([]);
  });

  it('writes nothing for a batch of records without points, but commits it', async () => {
    let writes = 0;
    const { q, log } = harness(async () => {
      writes++;
    });
    q.submit([entry(1, []), entry(2, [])]);
    await q.drain();
    expect(writes).toBe(0);
    expect(log).toEqual(['written 2 records 0 points', 'commit 1,2']);
  });

  it('a dead letter that Kafka refuses is fatal, not a silent drop', async () => {
    const { q, log } = harness(async () => {
      throw rejected();
    });
    (q as unknown as { deps: WriteQueueDeps }).deps.deadLetter = async () => {
      throw new PoisonRecordError('kafka down', 'invalid_value');
    };
    q.submit([entry(1)]);
    await q.drain();
    expect(log).toEqual(['fatal kafka down']);
  });
});
