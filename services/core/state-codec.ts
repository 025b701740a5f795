/**
 * Binary encoding of an asset state, for the scorer's changelog topic and for checkpoints.
 *
 * Layout (little-endian): magic "PDMS" (4 bytes), u16 version, then strings as u16 byte
 * length + UTF-8: assetId, assetType; u16 count + names for sensors, modes and trackers;
 * then u32 count of float64 numbers (padded to an 8-byte boundary) and the numbers. The
 * numbers are the state's exact bits, so decode → continue scores exactly as never stopping.
 * A default 8-sensor asset encodes to about 3.7 KiB (passenger_ev: 3,768 B), the 9-sensor
 * delivery_van to 4,352 B (484 B a sensor), both with a 17-character asset id.
 */
import { StateFormatError, StateVersionError } from './errors.ts';
import { STATE_VERSION } from './layout.ts';
import type { AssetState } from './types.ts';

const MAGIC = [0x50, 0x44, 0x4d, 0x53]; // "PDMS"
const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder('utf-8', { fatal: true });

/** Serializes a state (see the file header for the layout). */
export function encodeState(state: AssetState): Uint8Array {
  const strs: Uint8Array[] = [state.assetId, state.assetType, ...state.sensors, ...state.modes, ...state.pairs].map((s) =>
    utf8.encode(s),
  );
  let size = 4 + 2 + 3 * 2;
  for (const b of strs) {
    if (b.length > 0xffff) throw new RangeError(`state string of ${b.length} bytes exceeds 65535`);
    size += 2 + b.length;
  }
  size += 4;
  const pad = (8 - (size % 8)) % 8;
  size += pad + state.f.length * 8;
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  out.set(MAGIC, 0);
  let p = 4;
  dv.setUint16(p, state.version, true);
  p += 2;
  let k = 0;
  const put = (b: Uint8Array): void => {
    dv.setUint16(p, b.length, true);
    out.set(b, p + 2);
    p += 2 + b.length;
  };
  put(strs[k++]!);
  put(strs[k++]!);
  for (const count of [state.sensors.length, state.modes.length, state.pairs.length]) {
    dv.setUint16(p, count, true);
    p += 2;
    for (let i = 0; i < count; i++) put(strs[k++]!);
  }
  dv.setUint32(p, state.f.length, true);
  p += 4 + pad;
  for (let i = 0; i < state.f.length; i++, p += 8) dv.setFloat64(p, state.f[i]!, true);
  return out;
}

/**
 * Reads a state written by encodeState.
 * @throws StateVersionError for a version this build does not read (never a silent reset).
 * @throws StateFormatError for bytes that are not a state (bad magic, truncated).
 */
export function decodeState(bytes: Uint8Array): AssetState {
  if (bytes.length < 6 || MAGIC.some((m, i) => bytes[i] !== m))
    throw new StateFormatError('cannot decode asset state: missing "PDMS" header (not a state, or corrupted)');
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = dv.getUint16(4, true);
  if (version !== STATE_VERSION) throw new StateVersionError(version, STATE_VERSION);
  let p = 6;
  const need = (n: number): void => {
    if (p + n > bytes.length) throw new StateFormatError(`cannot decode asset state: truncated at byte ${p} of ${bytes.length}`);
  };
  const get = (): string => {
    need(2);
    const len = dv.getUint16(p, true);
    need(2 + len);
    const s = fromUtf8.decode(bytes.subarray(p + 2, p + 2 + len));
    p += 2 + len;
    return s;
  };
  const list = (): string[] => {
    need(2);
    const n = dv.getUint16(p, true);
    p += 2;
    const out: string[] = [];
    for (let i = 0; i < n; i++) out.push(get());
    return out;
  };
  const assetId = get();
  const assetType = get();
  const sensors = list();
  const modes = list();
  const pairs = list();
  need(4);
  const count = dv.getUint32(p, true);
  p += 4;
  p += (8 - (p % 8)) % 8;
  need(count * 8);
  const f = new Float64Array(count);
  for (let i = 0; i < count; i++, p += 8) f[i] = dv.getFloat64(p, true);
  return { version, assetId, assetType, sensors, modes, pairs, f };
}
