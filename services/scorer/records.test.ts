import { describe, expect, it } from 'vitest';
import { splitBySize } from './scorer.ts';
import { validReading } from './records.ts';

const msg = (bytes: number) => ({ key: 'k', value: Buffer.alloc(bytes) });

describe('splitBySize', () => {
  it('keeps every message, in order, and no request over the limit', () => {
    const input = [
      { topic: 'a', messages: [msg(300), msg(300), msg(300)] },
      { topic: 'b', messages: [msg(100), msg(600)] },
    ];
    const out = splitBySize(input, 700);
    const sizes = out.map((req) => req.reduce((n, t) => n + t.messages.reduce((k, m) => k + (m.value as Buffer).length + 1, 0), 0));
    expect(sizes.every((s) => s <= 700)).toBe(true);
    const flat = out.flatMap((req) => req.flatMap((t) => t.messages.map((m) => `${t.topic}:${(m.value as Buffer).length}`)));
    expect(flat).toEqual(['a:300', 'a:300', 'a:300', 'b:100', 'b:600']);
    expect(out).toHaveLength(3);
  });
  it('sends a single oversized message alone rather than dropping it', () => {
    const out = splitBySize([{ topic: 'a', messages: [msg(10), msg(5000), msg(10)] }], 100);
    expect(out.map((r) => r[0]!.messages.length)).toEqual([1, 1, 1]);
  });
});

describe('validReading', () => {
  it('names what is wrong', () => {
    expect(validReading({ assetId: '', assetType: 'x', ts: 1, values: {} })).toBe('assetId is empty');
    expect(validReading({ assetId: 'a', assetType: 'x', ts: -5, values: {} })).toBe('ts -5 is not a positive epoch-ms time');
    // The changelog's checkpoint marker key starts with NUL: no asset id may look like it.
    expect(validReading({ assetId: '\u0000checkpoint', assetType: 'x', ts: 5, values: {} })).toBe('assetId "\\u0000checkpoint" contains control characters');
    expect(validReading({ assetId: 'a', assetType: 'x', ts: 5, values: {} })).toEqual({ assetId: 'a', assetType: 'x', ts: 5, values: {} });
  });
});
