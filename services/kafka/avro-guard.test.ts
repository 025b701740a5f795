/**
 * The Avro block-count guard: a value whose bytes declare more array or map items than they
 * can hold is refused at once (found by fuzzing: random bytes behind a real schema id read
 * as a count of billions and held the decoder forever), while every well-formed value of the
 * pipeline's schemas decodes exactly as before.
 */
import avro from 'avsc';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { minEncodedBytes } from './avro-guard.ts';
import { loadSchemaText } from './codec.ts';
import './avro-guard.ts';

const reading = avro.Type.forSchema(JSON.parse(loadSchemaText('reading')) as avro.Schema);
const block = avro.Type.forSchema(JSON.parse(loadSchemaText('scoreBlock')) as avro.Schema);

/** Zig-zag varint of a (possibly huge) count, as Avro writes longs. */
function varint(n: bigint): number[] {
  let z = (n << 1n) ^ (n >> 63n);
  const out: number[] = [];
  while (z >= 0x80n) {
    out.push(Number((z & 0x7fn) | 0x80n));
    z >>= 7n;
  }
  out.push(Number(z));
  return out;
}

describe('avro guard', () => {
  it('refuses a map declaring a trillion entries in a few bytes, at once', () => {
    // assetId "a", assetType "b", ts 1, then the values map's block count: 10^12.
    const bytes = Buffer.from([2, 97, 2, 98, 2, ...varint(1_000_000_000_000n), 2, 97, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(() => reading.fromBuffer(bytes)).toThrow(/map block declares 1000000000000 items; the \d+ bytes left hold at most \d+/);
  });

  it('refuses an array declaring more doubles than its bytes hold (a negative count with a size, too)', () => {
    const arr = avro.Type.forSchema({ type: 'array', items: 'double' });
    expect(() => arr.fromBuffer(Buffer.from([...varint(3n), 0, 0, 0, 0, 0, 0, 0, 0, 0]))).toThrow('array block declares 3 items; the 9 bytes left hold at most 1');
    expect(() => arr.fromBuffer(Buffer.from([...varint(-3n), ...varint(24n), 0, 0, 0, 0, 0, 0, 0, 0, 0]))).toThrow('array block declares 3 items; the 9 bytes left hold at most 1');
  });

  it('reads old bytes through a reader schema (a resolver), maps and arrays included, and still refuses a huge count', () => {
    const writer = avro.Type.forSchema({ type: 'record', name: 'R', fields: [{ name: 'm', type: { type: 'map', values: 'double' } }, { name: 'a', type: { type: 'array', items: 'int' } }] });
    const reader = avro.Type.forSchema({
      type: 'record',
      name: 'R',
      fields: [
        { name: 'm', type: { type: 'map', values: 'double' } },
        { name: 'a', type: { type: 'array', items: 'long' } },
        { name: 'added', type: ['null', 'string'], default: null },
      ],
    });
    const resolver = reader.createResolver(writer);
    const value = { m: { x: 1.5, y: -2 }, a: [1, 2, 3] };
    expect(reader.fromBuffer(writer.toBuffer(value), resolver)).toEqual({ ...value, added: null });
    // A map count of 10^12 in a few bytes: refused through the resolver too (each entry takes a key byte).
    expect(() => reader.fromBuffer(Buffer.from([...varint(1_000_000_000_000n), 2, 97, 0, 0, 0, 0, 0, 0, 0, 0, 0]), resolver)).toThrow(/map block declares 1000000000000 items/);
  });

  it('decodes every well-formed reading and score block exactly as encoded', () => {
    fc.assert(
      fc.property(
        fc.record({
          assetId: fc.string({ minLength: 1 }),
          assetType: fc.string(),
          ts: fc.integer({ min: 0, max: 2 ** 50 }),
          values: fc.dictionary(fc.string(), fc.double({ noNaN: true })),
        }),
        (r) => {
          expect(reading.fromBuffer(reading.toBuffer(r))).toEqual(r);
        },
      ),
      { numRuns: 300 },
    );
    const b = {
      assetId: 'a',
      assetType: 't',
      configVersion: 'v',
      columns: ['x', 'y'],
      readings: [{ ts: 5, score: 0.5, health: 1, values: [1, 2], scores: [0, 0.25], learning: [1], findings: [{ kind: 'nan', sensor: null, detail: 'd' }] }],
      maintenance: [{ ts: 6, failureMode: null, sensors: ['x'], source: 's' }],
    };
    expect(block.fromBuffer(block.toBuffer(b))).toEqual(b);
  });

  it('keeps a map key named __proto__ as the value it is, not as a prototype', () => {
    const r = { assetId: 'a', assetType: 't', ts: 1, values: JSON.parse('{"__proto__": 5, "x": 1}') as Record<string, number> };
    const back = reading.fromBuffer(reading.toBuffer(r)) as typeof r;
    expect(Object.keys(back.values)).toEqual(['__proto__', 'x']);
    expect(Object.getPrototypeOf(back.values)).toBe(Object.prototype);
    expect(back.values['__proto__']).toBe(5);
  });

  it('knows the fewest bytes each kind of value takes', () => {
    expect(minEncodedBytes(avro.Type.forSchema('null'))).toBe(0);
    expect(minEncodedBytes(avro.Type.forSchema('double'))).toBe(8);
    expect(minEncodedBytes(avro.Type.forSchema({ type: 'fixed', name: 'F', size: 16 }))).toBe(16);
    expect(minEncodedBytes(avro.Type.forSchema({ type: 'record', name: 'R', fields: [{ name: 'a', type: 'double' }, { name: 'b', type: 'null' }, { name: 'c', type: 'string' }] }))).toBe(9);
    expect(minEncodedBytes(avro.Type.forSchema({ type: 'long', logicalType: 'timestamp-millis' }))).toBe(1);
  });

  it('decodes random bytes behind the reading schema without hanging: a value, or an error', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 120 }), (bytes) => {
        try {
          reading.fromBuffer(Buffer.from(bytes));
        } catch {
          /* malformed: the codec makes it a malformed_avro dead letter */
        }
      }),
      { numRuns: 5_000 },
    );
  });
});
