/**
 * The hand-written line-protocol writer against the official client's `Point` as the
 * reference: on generated names (spaces, commas, equals signs, quotes, backslashes, control
 * characters, unicode) and values, both must give the same bytes.
 */
import { Point } from '@influxdata/influxdb-client';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { escapeKey, escapeMeasurement, floatValue, intValue, KeyCache, LineBuilder, quoteString } from './line-protocol.ts';

const name = fc.string({ unit: fc.constantFrom('a', 'b', 'Z', '_', ' ', ',', '=', '"', '\\', '\n', '\t', '\r', 'é', '7'), minLength: 1, maxLength: 12 });
// The client drops empty tag values and a trailing backslash would escape the separator:
// points.ts refuses both as poison before they reach the writer.
const tagVal = name.filter((s) => !s.endsWith('\\'));

type FieldSpec = { kind: 'float'; v: number } | { kind: 'int'; v: number } | { kind: 'string'; v: string };
const fieldSpec: fc.Arbitrary<FieldSpec> = fc.oneof(
  fc.record({ kind: fc.constant('float' as const), v: fc.double({ noNaN: true, noDefaultInfinity: true }) }),
  fc.record({ kind: fc.constant('int' as const), v: fc.integer() }),
  fc.record({ kind: fc.constant('string' as const), v: fc.string() }),
);

describe('line protocol writer', () => {
  // One builder across all runs, as points.ts uses it: a line must not leak into the next.
  const builder = new LineBuilder();

  it('writes what the official client writes, byte for byte', () => {
    fc.assert(
      fc.property(
        name,
        fc.dictionary(name, tagVal, { maxKeys: 4 }),
        fc.dictionary(name, fieldSpec, { minKeys: 1, maxKeys: 6 }),
        fc.integer({ min: 0, max: 2 ** 52 }),
        (measurement, tags, fields, ts) => {
          const ref = new Point(measurement);
          for (const [k, v] of Object.entries(tags)) ref.tag(k, v);
          for (const [k, spec] of Object.entries(fields)) {
            if (spec.kind === 'float') ref.floatField(k, spec.v);
            else if (spec.kind === 'int') ref.intField(k, spec.v);
            else ref.stringField(k, spec.v);
          }
          ref.timestamp(ts);
          const expected = ref.toLineProtocol({ convertTime: (v) => String(v) });

          const series =
            escapeMeasurement(measurement) +
            Object.keys(tags)
              .sort()
              .map((k) => `,${escapeKey(k)}=${escapeKey(tags[k]!)}`)
              .join('');
          for (const [k, spec] of Object.entries(fields)) {
            builder.field(k, `${escapeKey(k)}=`, spec.kind === 'float' ? floatValue(spec.v) : spec.kind === 'int' ? intValue(spec.v) : quoteString(spec.v));
          }
          expect(builder.finish(series, ts)).toBe(expected);
        },
      ),
      { numRuns: 2_000 },
    );
  });

  it('gives no line for a point without fields, as the client does', () => {
    expect(new LineBuilder().finish('m,t=1', 5)).toBeUndefined();
    expect(new Point('m').tag('t', '1').timestamp(5).toLineProtocol()).toBeUndefined();
  });

  it('forgets the fields of an abandoned line on reset', () => {
    const lb = new LineBuilder();
    lb.field('a', 'a=', '1');
    lb.reset();
    expect(lb.finish('m', 1)).toBeUndefined();
    expect(lb.field('b', 'b=', '2').finish('m', 1)).toBe('m b=2 1');
  });

  it('caches escaped keys only up to its bound', () => {
    const cache = new KeyCache(2);
    expect(cache.get('a b')).toBe('a\\ b=');
    expect(cache.get('x', 'score_')).toBe('score_x=');
    expect(cache.get('c=d')).toBe('c\\=d=');
    expect(cache.get('c=d')).toBe('c\\=d='); // not cached (full), still right
  });
});
