/**
 * Messages packed for another thread come back byte for byte: binary and null keys and
 * values, headers (Buffers included), explicit partitions, and a chunk's offsets and
 * timestamps, after a real structured clone with the buffer transferred.
 */
import type { KafkaMessage } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { packChunk, packMessages, unpackChunk, unpackMessages } from './thread-packing.ts';

describe('thread packing', () => {
  it('round-trips keys, values, headers and partitions through a transferring structured clone', () => {
    const messages = [
      { key: 'A-1', value: Buffer.from([0, 1, 2, 255]) },
      { key: null, value: null },
      { key: Buffer.from([0xff, 0x00, 0xfe]), value: Buffer.alloc(0), headers: { 'pdm-dlq-reason': 'invalid_record', raw: Buffer.from([9, 8]) } },
      { key: 'B', value: 'text value', partition: 4 },
    ];
    const packed = packMessages(messages);
    const moved = structuredClone(packed, { transfer: [packed.buf] });
    expect(packed.buf.byteLength).toBe(0); // transferred, not copied
    const out = unpackMessages(moved);
    expect(out.map((m) => (m.key === null ? null : Buffer.from(m.key as Buffer).toString('hex')))).toEqual([Buffer.from('A-1').toString('hex'), null, 'ff00fe', Buffer.from('B').toString('hex')]);
    expect(out.map((m) => (m.value === null ? null : Buffer.from(m.value as Buffer).toString('hex')))).toEqual(['000102ff', null, '', Buffer.from('text value').toString('hex')]);
    expect(out[2]!.headers!['pdm-dlq-reason']).toBe('invalid_record');
    expect(Buffer.isBuffer(out[2]!.headers!.raw)).toBe(true);
    expect([...(out[2]!.headers!.raw as Buffer)]).toEqual([9, 8]);
    expect(out[3]!.partition).toBe(4);
    expect(out[0]!.partition).toBeUndefined();
  });

  it('packs nothing into an empty buffer', () => {
    expect(unpackMessages(structuredClone(packMessages([])))).toEqual([]);
  });

  it('keeps a chunk as kafkajs delivered it: offsets, timestamps, keys, values, headers', () => {
    const fetched = [
      { key: Buffer.from('X'), value: Buffer.from('one'), offset: '41', timestamp: '1767225600000', headers: {}, attributes: 0 },
      { key: null, value: Buffer.from([7]), offset: '42', timestamp: '1767225600001', headers: { h: Buffer.from('v') }, attributes: 0 },
    ] as KafkaMessage[];
    const packed = packChunk(fetched);
    const back = unpackChunk(structuredClone(packed, { transfer: [packed.messages.buf] }));
    expect(back.map((m) => [m.offset, m.timestamp, m.key?.toString() ?? null, m.value?.toString('hex')])).toEqual([
      ['41', '1767225600000', 'X', Buffer.from('one').toString('hex')],
      ['42', '1767225600001', null, '07'],
    ]);
    expect((back[1]!.headers!.h as Buffer).toString()).toBe('v');
  });
});
