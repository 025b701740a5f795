/**
 * InfluxDB line protocol, written straight to strings.
 *
 * Why not the client's `Point`: profiling the sink (100,000 readings and their scores) put
 * `Point` construction and `toLineProtocol` (an object per point, a sort and a template per
 * field) plus the garbage they leave at about half of the sink's CPU. This writer produces
 * byte-identical lines (tags and fields sorted by key, the client's escaping rules; the
 * tests compare it with the client on generated points) without the intermediate objects.
 *
 * Escaping (https://docs.influxdata.com/influxdb/v1/write_protocols/line_protocol_reference/):
 * measurement: comma, space (and newline, CR, tab as \n \r \t, as the client does); tag keys,
 * tag values and field keys: also the equals sign; string field values: double quote and
 * backslash, inside double quotes.
 */

const MEASUREMENT_SPECIAL = /[, \n\r\t]/;
const TAG_SPECIAL = /[, =\n\r\t]/;
const STRING_SPECIAL = /["\\]/;

const ESCAPES: Record<string, string> = { ',': '\\,', ' ': '\\ ', '=': '\\=', '\n': '\\n', '\r': '\\r', '\t': '\\t', '"': '\\"', '\\': '\\\\' };

function escapeWith(value: string, special: RegExp, global: RegExp): string {
  return special.test(value) ? value.replace(global, (c) => ESCAPES[c]!) : value;
}

const MEASUREMENT_ALL = /[, \n\r\t]/g;
const TAG_ALL = /[, =\n\r\t]/g;
const STRING_ALL = /["\\]/g;

/** A measurement name, escaped. */
export function escapeMeasurement(name: string): string {
  return escapeWith(name, MEASUREMENT_SPECIAL, MEASUREMENT_ALL);
}

/** A tag key, tag value or field key, escaped. */
export function escapeKey(key: string): string {
  return escapeWith(key, TAG_SPECIAL, TAG_ALL);
}

/** A string field value, quoted and escaped. */
export function quoteString(value: string): string {
  return `"${escapeWith(value, STRING_SPECIAL, STRING_ALL)}"`;
}

/** A float field value as the client writes it (`String(n)`); callers leave out non-finite values. */
export function floatValue(n: number): string {
  return String(n);
}

/** An integer field value (`5i`). */
export function intValue(n: number): string {
  return `${Math.trunc(n)}i`;
}

/**
 * Escaped `key=` prefixes of field and tag keys, memoised: sensor names repeat on every
 * reading. Bounded, so that a stream of ever-new names (bad input) cannot grow it without limit.
 */
export class KeyCache {
  private readonly map = new Map<string, string>();
  constructor(private readonly max = 10_000) {}

  /** `escapeKey(prefix + key) + '='`. */
  get(key: string, prefix = ''): string {
    const k = prefix === '' ? key : prefix + key;
    let v = this.map.get(k);
    if (v === undefined) {
      v = `${escapeKey(k)}=`;
      if (this.map.size < this.max) this.map.set(k, v);
    }
    return v;
  }
}

/**
 * Builds one line: `series fields timestamp`, where `series` is the escaped measurement and
 * its sorted `,tag=value` pairs. Fields are added in any order and written sorted by key, as
 * the client sorts them (the order is not significant to InfluxDB; it keeps the lines
 * identical to the client's). Reused for every line, so encoding allocates no per-field
 * objects: the sink writes about a million fields a second.
 */
export class LineBuilder {
  private keys: string[] = [];
  private heads: string[] = [];
  private values: string[] = [];
  private order: number[] = [];
  private n = 0;

  /** Adds a field: its raw key (sorted on), its escaped `key=` head and its formatted value. */
  field(key: string, head: string, value: string): this {
    const i = this.n++;
    this.keys[i] = key;
    this.heads[i] = head;
    this.values[i] = value;
    return this;
  }

  /** Forgets the fields added since the last line. */
  reset(): void {
    this.n = 0;
  }

  /** The line of the fields added since the last call (undefined when there were none: not a valid point). */
  finish(series: string, tsMs: number): string | undefined {
    const n = this.n;
    this.n = 0;
    if (n === 0) return undefined;
    const order = this.order;
    for (let i = 0; i < n; i++) order[i] = i;
    // Insertion sort: a point has a handful of fields, often already in order.
    const keys = this.keys;
    for (let i = 1; i < n; i++) {
      const cur = order[i]!;
      const k = keys[cur]!;
      let j = i - 1;
      while (j >= 0 && keys[order[j]!]! > k) {
        order[j + 1] = order[j]!;
        j--;
      }
      order[j + 1] = cur;
    }
    let s = `${series} `;
    for (let i = 0; i < n; i++) {
      const o = order[i]!;
      if (i > 0) s += ',';
      s += this.heads[o]! + this.values[o]!;
    }
    return `${s} ${tsMs}`;
  }
}
