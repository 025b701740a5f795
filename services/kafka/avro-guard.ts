/**
 * Guards avsc's decoding of arrays and maps against block counts the bytes cannot hold.
 *
 * Why: avsc reads a block's item count and then loops that many times, checking for the end
 * of the buffer only once the whole value is read. A random or hostile value whose bytes read
 * as a count of 10^12 (found by the reliability suite's fuzzed records: a few dozen random
 * bytes behind the readings' schema id) held the scorer's event loop for good, and every
 * partition behind it. Every item of a block takes at least a known number of bytes (a map
 * entry at least one, for its key's length; a double eight), so a count above what the bytes
 * left can hold is malformed on its face: refuse it before looping.
 *
 * How: avsc keeps its readers on the prototypes of its ArrayType and MapType; they are
 * wrapped here once, when this module is first imported (codec.ts imports it), for every
 * schema. There is no public hook for this in avsc 5.7; remove this once there is one.
 */
import avro from 'avsc';

/** Items a block may declare when the item type can encode to zero bytes (null, an empty record). */
const MAX_ZERO_BYTE_ITEMS = 1_000_000;

interface Tap {
  buf: Buffer;
  pos: number;
  readLong(): number;
  skipLong(): void;
}

type AnyType = avro.Type & { typeName: string };

/** The fewest bytes one value of the type takes in Avro binary, or 0. */
export function minEncodedBytes(type: avro.Type, seen = new Set<avro.Type>()): number {
  const t = type as AnyType;
  if (seen.has(type)) return 0; // recursive type: no bound claimed
  // Reading with a reader schema, avsc hands its readers a Resolver instead of the item type:
  // it does not say what the writer's items take, so no bound is claimed for them.
  if (typeof t.typeName !== 'string') return 0;
  switch (t.typeName) {
    case 'null':
      return 0;
    case 'float':
      return 4;
    case 'double':
      return 8;
    case 'fixed':
      return (type as unknown as { size: number }).size;
    case 'record':
    case 'error': {
      seen.add(type);
      const fields = (type as unknown as { fields: { type: avro.Type }[] }).fields;
      const n = fields.reduce((sum, f) => sum + minEncodedBytes(f.type, seen), 0);
      seen.delete(type);
      return n;
    }
    default:
      // boolean, int, long, string, bytes, enum, union (its index), array and map (their
      // closing zero count), logical types over any of them: at least one byte.
      return t.typeName.startsWith('logical:') ? minEncodedBytes((type as unknown as { underlyingType: avro.Type }).underlyingType, seen) : 1;
  }
}

function guardedCount(tap: Tap, itemBytes: number, what: string): number {
  let n = tap.readLong();
  if (n < 0) {
    n = -n;
    tap.skipLong();
  }
  const left = tap.buf.length - tap.pos;
  const max = itemBytes > 0 ? Math.floor(left / itemBytes) : MAX_ZERO_BYTE_ITEMS;
  if (n > max) throw new Error(`${what} block declares ${n} items; the ${left} bytes left hold at most ${max}`);
  return n;
}

/** minEncodedBytes per item type, computed once per type. */
const itemBytesOf = new WeakMap<avro.Type, number>();
function cachedMin(type: avro.Type): number {
  let n = itemBytesOf.get(type);
  if (n === undefined) itemBytesOf.set(type, (n = minEncodedBytes(type)));
  return n;
}

const { ArrayType, MapType } = (avro as unknown as { types: Record<string, { prototype: Record<string, unknown> }> }).types;
const PATCHED = Symbol.for('pdm.avroGuard');

if (!(ArrayType!.prototype as Record<symbol, unknown>)[PATCHED]) {
  (ArrayType!.prototype as Record<symbol, unknown>)[PATCHED] = true;
  ArrayType!.prototype._read = function (this: { itemsType: avro.Type & { _read(t: Tap): unknown } }, tap: Tap): unknown[] {
    const items = this.itemsType;
    const itemBytes = cachedMin(items);
    let val: unknown[] | undefined;
    let i = 0;
    let n: number;
    while ((n = guardedCount(tap, itemBytes, 'array'))) {
      // Sized on the first block, as avsc does (bounded by the bytes left now).
      val ??= new Array<unknown>(n);
      while (n--) val[i++] = items._read(tap);
    }
    return val ?? [];
  };
  MapType!.prototype._read = function (this: { valuesType: avro.Type & { _read(t: Tap): unknown } }, tap: Tap & { readString(): string }): Record<string, unknown> {
    const values = this.valuesType;
    // A key's length takes a byte at least, and its value what its type takes.
    const entryBytes = 1 + cachedMin(values);
    const val: Record<string, unknown> = {};
    let n: number;
    while ((n = guardedCount(tap, entryBytes, 'map'))) {
      while (n--) {
        const key = tap.readString();
        // A key "__proto__" set by assignment would replace the object's prototype (and the
        // value would be lost): define it as the plain own property it is.
        if (key === '__proto__') Object.defineProperty(val, key, { value: values._read(tap), enumerable: true, writable: true, configurable: true });
        else val[key] = values._read(tap);
      }
    }
    return val;
  };
}
