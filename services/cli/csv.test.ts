import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { CsvReader, CsvSyntaxError, csvField, csvLine } from './csv.ts';

/** Parses `text` split into the given chunk sizes (cycled), collecting records with lines. */
function parse(text: string, chunkSizes: number[] = [text.length || 1]): Array<[string[], number]> {
  const out: Array<[string[], number]> = [];
  const r = new CsvReader((f, l) => out.push([f, l]));
  let i = 0;
  let k = 0;
  while (i < text.length) {
    const n = Math.max(1, chunkSizes[k++ % chunkSizes.length]!);
    r.push(text.slice(i, i + n));
    i += n;
  }
  r.end();
  return out;
}

describe('CsvReader', () => {
  it('reads plain records with LF, CRLF and lone CR line ends', () => {
    expect(parse('a,b\n1,2\r\n3,4\r5,6')).toEqual([
      [['a', 'b'], 1],
      [['1', '2'], 2],
      [['3', '4'], 3],
      [['5', '6'], 4],
    ]);
  });

  it('reads quoted fields with commas, escaped quotes and line breaks, and counts lines', () => {
    const text = 'h1,h2\n"a,b","say ""hi"""\n"multi\nline",x\nlast,""\n';
    expect(parse(text)).toEqual([
      [['h1', 'h2'], 1],
      [['a,b', 'say "hi"'], 2],
      [['multi\nline', 'x'], 3],
      [['last', ''], 5],
    ]);
  });

  it('gives the same records for every way of splitting the input into chunks', () => {
    const text = '\ufefftimestamp,"v,1"\r\n1,"x""y"\r\n\r\n2,"a\r\nb"\r\n3,\n';
    const whole = parse(text);
    expect(whole).toEqual([
      [['timestamp', 'v,1'], 1],
      [['1', 'x"y'], 2],
      [['2', 'a\r\nb'], 4],
      [['3', ''], 6],
    ]);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 10 }), (sizes) => {
        expect(parse(text, sizes)).toEqual(whole);
      }),
    );
  });

  it('round-trips any fields through csvLine', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.string({ unit: fc.constantFrom('a', ',', '"', '\n', '\r', ' ', 'é') }), { minLength: 2, maxLength: 4 }), {
          minLength: 1,
          maxLength: 5,
        }),
        fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 5 }),
        (records, sizes) => {
          const text = records.map(csvLine).join('');
          expect(parse(text, sizes).map(([f]) => f)).toEqual(records);
        },
      ),
    );
  });

  it('skips blank lines but keeps a line holding only ""', () => {
    expect(parse('a\n\n\n""\nb\n')).toEqual([
      [['a'], 1],
      [[''], 4],
      [['b'], 5],
    ]);
  });

  it('rejects text after a closing quote, naming the line', () => {
    expect(() => parse('a,b\n"x"y,1\n')).toThrow(new CsvSyntaxError(2, 'text after the closing quote of a quoted field'));
  });

  it('rejects a quote inside an unquoted field, naming the line', () => {
    expect(() => parse('a\nab"c\n')).toThrowError(/^line 2: quote inside an unquoted field/);
  });

  it('rejects a quoted field left open at the end, naming the line it started on', () => {
    expect(() => parse('a,b\n1,"open\n\nstill open')).toThrow(
      new CsvSyntaxError(2, 'quoted field not closed before the end of the input'),
    );
  });
});

describe('csvField', () => {
  it('quotes only when needed', () => {
    expect(csvField('plain 1.5')).toBe('plain 1.5');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "x"')).toBe('"say ""x"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
  });
});
