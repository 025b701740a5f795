/**
 * Avro readers whose `bytes` values are views of the decoded buffer instead of copies.
 *
 * Why: avsc copies every bytes value into a fresh slab of its own 4 KiB pool, and a state in
 * the scorer's changelog is 3.4 KB, so restoring 50,000 states allocated 50,000 ArrayBuffers
 * (and the restore copied each one again to keep it): a third of the restore's time went to
 * allocating buffers. A reader built here returns a subarray of the value being decoded; the
 * caller copies what it keeps, once, where it likes (the restore: into large slabs).
 *
 * How: avsc builds a reader per schema; `typeHook` swaps each plain `bytes` type (not a
 * logical type such as decimal, which keeps avsc's own) for a subclass of avsc's BytesType
 * that reads a view. Only the reading differs; writing, resolution and validation are
 * avsc's.
 */
import avro from 'avsc';

interface Tap {
  buf: Buffer;
  pos: number;
  readLong(): number;
  _invalidate(): void;
}

type PrimitiveCtor = new () => avro.Type;
const { BytesType } = (avro as unknown as { types: Record<string, PrimitiveCtor> }).types;

/** avsc's bytes type, reading a view of the buffer rather than a copy. */
class ViewBytesType extends BytesType! {
  _read(tap: Tap): Buffer | undefined {
    const len = tap.readLong();
    if (len < 0) {
      tap._invalidate();
      return undefined;
    }
    const pos = tap.pos;
    tap.pos = pos + len;
    // Past the end: avsc's own check (tap.isValid) then reports the value truncated.
    if (tap.pos > tap.buf.length) return undefined;
    return tap.buf.subarray(pos, pos + len);
  }
}

const VIEW_BYTES = new ViewBytesType();

function viewBytesHook(schema: avro.Schema): avro.Type | undefined {
  if (schema === 'bytes') return VIEW_BYTES;
  const s = schema as { type?: unknown; logicalType?: unknown };
  if (typeof s === 'object' && s !== null && s.type === 'bytes' && s.logicalType === undefined) return VIEW_BYTES;
  return undefined;
}

/**
 * A reader of `schema` (parsed Avro schema JSON) whose bytes values are views of the buffer
 * given to fromBuffer: valid only as long as that buffer is, and changed if it is changed.
 */
export function viewReaderOf(schema: avro.Schema): avro.Type {
  return avro.Type.forSchema(schema, { typeHook: viewBytesHook });
}
