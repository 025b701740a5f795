/**
 * Binary encoding of an asset state, for the scorer's changelog topic and for checkpoints.
 *
 * Layout (little-endian): magic "PDMS" (4 bytes), u16 version, then strings as u16 byte
 * length + UTF-8: assetId, assetType; u16 count + names for sensors and for modes; u16 count
 * of failure trackers, each as u16 mode index + u16 sensor index (its name is always
 * "mode/sensor"); then u32 count of numbers (padded to an 8-byte boundary) and the numbers:
 * float64 but for the sensor slots the core keeps at 32-bit precision (layout.ts,
 * SENSOR_FLOAT32_SLOTS), which are float32. The numbers are the state's exact bits, so
 * decode → continue scores exactly as never stopping. A default 8-sensor asset encodes to
 * 3,744 B (passenger_ev), the 9-sensor delivery_van to 4,320 B, both with a 17-character asset
 * id (version 7, no run model of the shift and no step agreement: 3,360 B and 3,888 B;
 * version 6, all float64 and no jump run: 4,064 B and 4,680 B).
 *
 * Older versions: a version 7 state decodes with nothing re-learning, its shift's run model
 * empty (the shift's run evidence scores once a run has finished) and its step agreement
 * starting to learn (it scores once its tail has learned `learningReadings` values, as a
 * version 6 state's jump run does); every older version starts them the same way. A
 * version 6 state (all float64, no jump run) decodes with nothing
 * re-learning: its 32-bit slots are rounded to float32, its histograms' weights scaled below
 * float32's range, and its jump run starts learning (it scores once its tail has learned
 * `learningReadings` values; every other evidence scores on). Versions 5 and 4 start the jump
 * run the same way. A version 5 state (8 histogram bins, no level extremes) decodes with
 * everything kept: its histogram is re-binned onto 7 bins (each old bin's weight goes to the
 * new bin its centre falls in), and the level's extremes start at the sensor's all-time range
 * with its count of range extensions as the count of level breaks (the range is wider than
 * the level's own extremes, so this errs toward fewer level breaks until the level has shown
 * its own). A version 4 state (tracker names as strings, the sensor block of the
 * rolling-window detector) decodes into the current layout with its failure trackers,
 * episodes, covariate fits and data-quality bookkeeping intact; each sensor's anomaly
 * evidence re-learns from its next value (scores 0 for `learningReadings` values), since the
 * statistics of version 4 do not translate. Anything older is refused (StateVersionError).
 */
import { StateFormatError, StateVersionError } from './errors.ts';
import { binOf, HISTOGRAM_BINS, histogramRescale } from './histogram.ts';
import {
  hasLayoutOf,
  HEADER_SLOTS,
  initSensor,
  roundSensorFloat32,
  SENSOR_SLOT_IS_FLOAT32,
  SENSOR_HISTOGRAM,
  SENSOR_JUMP_RUN,
  SENSOR_LEVEL_BREAKS,
  SENSOR_LEVEL_HIGH,
  SENSOR_LEVEL_LOW,
  SENSOR_MAX,
  SENSOR_MIN,
  SENSOR_RANGE_EXTENSIONS,
  SENSOR_LAST_VALID_TS,
  SENSOR_MEAN_INTERVAL_MS,
  SENSOR_RUN_LENGTH,
  SENSOR_RUN_START_TS,
  SENSOR_RUN_VALUE,
  SENSOR_SCORE,
  SENSOR_SHIFT_RUNS,
  SENSOR_SLOTS,
  STATE_VERSION,
} from './layout.ts';
import type { AssetState, CompiledConfig } from './types.ts';

const MAGIC = [0x50, 0x44, 0x4d, 0x53]; // "PDMS"
const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder('utf-8', { fatal: true });

/** The oldest layout this build still reads (see the file header). */
const V4 = 4;
/** The layout before the shift's run model and the step agreement: their slots missing at the block's end, the others as now. */
const V7 = 7;
const V7_SENSOR_SLOTS = SENSOR_SHIFT_RUNS;
/** The layout before 32-bit slots and the jump run: every number float64, the jump run's slots missing at the block's end. */
const V6 = 6;
const V6_SENSOR_SLOTS = SENSOR_JUMP_RUN;
/** The layout before the level's extremes: 8 histogram bins and its weight ended the sensor block. */
const V5 = 5;
const V5_BINS = 8;
const V5_SENSOR_SLOTS = SENSOR_HISTOGRAM + V5_BINS + 1;
/** Numbers per sensor block in version 4, and where its bookkeeping sat. */
const V4_SENSOR_SLOTS = 33;
const V4_LAST_VALID_TS = 2;
const V4_RUN_VALUE = 3;
const V4_RUN_LENGTH = 4;
const V4_RUN_START_TS = 5;
const V4_MEAN_INTERVAL_MS = 6;
const V4_SCORE = 14;

/** Per sensor slot, 1 when it is stored as a float32 (SENSOR_SLOT_IS_FLOAT32, as bytes for the loops below). */
const IS32 = Uint8Array.from(SENSOR_SLOT_IS_FLOAT32, (x) => (x ? 1 : 0));

/** UTF-8 length of `s` (lone surrogates count as U+FFFD, 3 bytes, as TextEncoder writes them). */
function utf8Length(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) n += 1;
    else if (c >= 0xd800 && c < 0xdc00 && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 2; // a pair: 4 bytes for 2 code units
      i++;
    } else n += 2;
  }
  return n;
}

/** Writes `s` (of UTF-8 length `len`) as u16 length + bytes at `p`; returns the next position. */
function writeString(out: Uint8Array, dv: DataView, p: number, s: string, len: number): number {
  dv.setUint16(p, len, true);
  p += 2;
  if (len === s.length) for (let i = 0; i < len; i++) out[p + i] = s.charCodeAt(i);
  else utf8.encodeInto(s, out.subarray(p, p + len));
  return p + len;
}

/** UTF-8 length of `s`, refused past what a u16 length holds. */
function stringLength(s: string): number {
  const len = utf8Length(s);
  if (len > 0xffff) throw new RangeError(`state string of ${len} bytes exceeds 65535`);
  return len;
}

/**
 * Serializes a state (see the file header for the layout). No closures and no lists beyond
 * the output: the scorer encodes every changed state at its checkpoints.
 */
export function encodeState(state: AssetState): Uint8Array {
  const { sensors, modes, pairs } = state;
  let size = 4 + 2 + 3 * 2 + 4 * pairs.length + 2 + stringLength(state.assetId) + 2 + stringLength(state.assetType);
  for (let i = 0; i < sensors.length; i++) size += 2 + stringLength(sensors[i]!);
  for (let i = 0; i < modes.length; i++) size += 2 + stringLength(modes[i]!);
  size += 4;
  const pad = (8 - (size % 8)) % 8;
  const nSensors = sensors.length;
  size += pad + state.f.length * 8 - nSensors * FLOAT32_PER_SENSOR * 4;
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  out.set(MAGIC, 0);
  let p = 4;
  dv.setUint16(p, STATE_VERSION, true);
  p += 2;
  p = writeString(out, dv, p, state.assetId, utf8Length(state.assetId));
  p = writeString(out, dv, p, state.assetType, utf8Length(state.assetType));
  dv.setUint16(p, sensors.length, true);
  p += 2;
  for (let i = 0; i < sensors.length; i++) p = writeString(out, dv, p, sensors[i]!, utf8Length(sensors[i]!));
  dv.setUint16(p, modes.length, true);
  p += 2;
  for (let i = 0; i < modes.length; i++) p = writeString(out, dv, p, modes[i]!, utf8Length(modes[i]!));
  dv.setUint16(p, pairs.length, true);
  p += 2;
  for (let j = 0; j < pairs.length; j++) {
    const pair = pairs[j]!;
    const cut = pair.indexOf('/');
    const m = modes.indexOf(pair.slice(0, cut));
    const s = sensors.indexOf(pair.slice(cut + 1));
    if (cut < 0 || m < 0 || s < 0) throw new RangeError(`tracker "${pair}" is not "mode/sensor" of the state's own modes and sensors`);
    dv.setUint16(p, m, true);
    dv.setUint16(p + 2, s, true);
    p += 4;
  }
  dv.setUint32(p, state.f.length, true);
  p += 4 + pad;
  const f = state.f;
  let i = 0;
  for (; i < HEADER_SLOTS; i++, p += 8) dv.setFloat64(p, f[i]!, true);
  for (let s = 0; s < nSensors; s++) {
    for (let j = 0; j < SENSOR_SLOTS; j++, i++) {
      if (IS32[j] === 1) {
        dv.setFloat32(p, f[i]!, true);
        p += 4;
      } else {
        dv.setFloat64(p, f[i]!, true);
        p += 8;
      }
    }
  }
  for (; i < f.length; i++, p += 8) dv.setFloat64(p, f[i]!, true);
  return out;
}

/** 32-bit numbers in each sensor block (of this version and of version 7). */
const FLOAT32_PER_SENSOR = SENSOR_SLOT_IS_FLOAT32.filter((x) => x).length;
const FLOAT32_PER_V7_SENSOR = SENSOR_SLOT_IS_FLOAT32.slice(0, V7_SENSOR_SLOTS).filter((x) => x).length;

/** The string of `len` bytes at `p` when they are all ASCII (the usual ids and names), else undefined (UTF-8: TextDecoder). */
function asciiAt(bytes: Uint8Array, p: number, len: number): string | undefined {
  if (len > 256) return undefined;
  for (let i = p; i < p + len; i++) if (bytes[i]! >= 0x80) return undefined;
  return String.fromCharCode.apply(null, bytes.subarray(p, p + len) as unknown as number[]);
}

/** Throws StateFormatError when `bytes` end before `p + n`. */
function needBytes(bytes: Uint8Array, p: number, n: number): void {
  if (p + n > bytes.length) throw new StateFormatError(`cannot decode asset state: truncated at byte ${p} of ${bytes.length}`);
}

/** Reads the counts and strings at the start of a state, from byte 6 (after the magic and the version). */
class StateReader {
  p = 6;
  constructor(
    private readonly bytes: Uint8Array,
    private readonly dv: DataView,
  ) {}

  u16(): number {
    needBytes(this.bytes, this.p, 2);
    const v = this.dv.getUint16(this.p, true);
    this.p += 2;
    return v;
  }

  str(): string {
    const len = this.u16();
    const p = this.p;
    needBytes(this.bytes, p, len);
    this.p = p + len;
    return asciiAt(this.bytes, p, len) ?? fromUtf8.decode(this.bytes.subarray(p, p + len));
  }

  list(): string[] {
    const out: string[] = [];
    for (let n = this.u16(); n > 0; n--) out.push(this.str());
    return out;
  }
}

/**
 * The layout version of an encoded state, checked from its first 6 bytes alone: for a caller
 * that keeps states encoded until they are needed (the scorer's restore) and must refuse one
 * this build cannot read when it gets it, not at the asset's next reading.
 * @throws StateFormatError without the "PDMS" header; StateVersionError for a version this build does not read.
 */
export function stateVersion(bytes: Uint8Array): number {
  if (bytes.length < 6 || bytes[0] !== MAGIC[0] || bytes[1] !== MAGIC[1] || bytes[2] !== MAGIC[2] || bytes[3] !== MAGIC[3])
    throw new StateFormatError('cannot decode asset state: missing "PDMS" header (not a state, or corrupted)');
  const version = bytes[4]! | (bytes[5]! << 8);
  if (version !== STATE_VERSION && version !== V7 && version !== V6 && version !== V5 && version !== V4) throw new StateVersionError(version, STATE_VERSION, V4);
  return version;
}

/** Where a decoded state's numbers go: a zero-filled array of `count` numbers, its own or a view of a larger one. */
export type NumberAllocator = (count: number) => Float64Array;

/**
 * For a caller that decodes tens of thousands of states within minutes and keeps them (the
 * scorer after a restore): each state's own array of numbers and its own copies of the name
 * lists are objects that live long, and at that count allocating them and moving them
 * through the collector cost several times the decoding itself.
 */
export interface DecodeOptions {
  /** The array a state of this version decodes into (an older version's is converted into one of its own: a migration is rare). */
  numbers?: NumberAllocator;
  /**
   * A state laid out as its asset type in this configuration gets the type's own name lists
   * and name, as `score` would give it at its next reading (the decoded copies die young).
   */
  config?: CompiledConfig;
}

const ownNumbers: NumberAllocator = (count) => new Float64Array(count);

/**
 * Reads a state written by encodeState (this version, or versions 7, 6, 5 and 4).
 * @throws StateVersionError for a version this build does not read (never a silent reset).
 * @throws StateFormatError for bytes that are not a state (bad magic, truncated, bad indexes).
 */
export function decodeState(bytes: Uint8Array, options: DecodeOptions = {}): AssetState {
  const version = stateVersion(bytes);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // A reader object rather than closures over `p`: the decoder runs for every state of a
  // restore, and each closure is an allocation per call (and a defineProperty for its name
  // under tsx).
  const r = new StateReader(bytes, dv);
  const assetId = r.str();
  const assetType = r.str();
  const sensors = r.list();
  const modes = r.list();
  let pairs: string[];
  if (version === V4) pairs = r.list();
  else {
    pairs = [];
    for (let j = r.u16(); j > 0; j--) {
      const m = modes[r.u16()];
      const s = sensors[r.u16()];
      if (m === undefined || s === undefined) throw new StateFormatError(`cannot decode asset state: tracker index out of range at byte ${r.p}`);
      pairs.push(`${m}/${s}`);
    }
  }
  let p = r.p;
  needBytes(bytes, p, 4);
  const count = dv.getUint32(p, true);
  p += 4;
  p += (8 - (p % 8)) % 8;
  const raw = version === STATE_VERSION ? (options.numbers ?? ownNumbers)(count) : new Float64Array(count);
  if (version === STATE_VERSION || version === V7) {
    // Version 7's sensor block is this one's without the run model and the step agreement, its slots at the same precision.
    const slots = version === V7 ? V7_SENSOR_SLOTS : SENSOR_SLOTS;
    const sensorsEnd = HEADER_SLOTS + sensors.length * slots;
    if (count < sensorsEnd) throw new StateFormatError(`cannot decode asset state: ${count} numbers cannot hold ${sensors.length} sensors`);
    needBytes(bytes, p, count * 8 - sensors.length * (version === V7 ? FLOAT32_PER_V7_SENSOR : FLOAT32_PER_SENSOR) * 4);
    let i = 0;
    for (; i < HEADER_SLOTS; i++, p += 8) raw[i] = dv.getFloat64(p, true);
    for (let s = 0; s < sensors.length; s++) {
      for (let j = 0; j < slots; j++, i++) {
        if (IS32[j] === 1) {
          raw[i] = dv.getFloat32(p, true);
          p += 4;
        } else {
          raw[i] = dv.getFloat64(p, true);
          p += 8;
        }
      }
    }
    for (; i < count; i++, p += 8) raw[i] = dv.getFloat64(p, true);
  } else {
    needBytes(bytes, p, count * 8);
    for (let i = 0; i < count; i++, p += 8) raw[i] = dv.getFloat64(p, true);
  }
  const f =
    version === V4
      ? fromV4(raw, sensors.length)
      : version === V5
        ? fromV5(raw, sensors.length)
        : version === V6
          ? fromPrefix(raw, sensors.length, V6_SENSOR_SLOTS, V6)
          : version === V7
            ? fromPrefix(raw, sensors.length, V7_SENSOR_SLOTS, V7)
            : raw;
  const state: AssetState = { version: STATE_VERSION, assetId, assetType, sensors, modes, pairs, f };
  const at = options.config?.assetTypes.get(assetType);
  if (at === undefined || at.generic || !hasLayoutOf(state, at)) return state;
  return { version: STATE_VERSION, assetId, assetType: at.name, sensors: at.sensorNames, modes: at.modeNames, pairs: at.pairNames, f };
}

/**
 * An older version's numbers in the current layout: the header, then each sensor block as
 * `sensor(from, to)` converts it (offsets into `old` and the new array), then the trackers,
 * episodes and covariate fits, which kept their layout.
 */
function convert(old: Float64Array, nSensors: number, oldSlots: number, version: number, sensor: (f: Float64Array, from: number, to: number) => void): Float64Array {
  const rest = old.length - HEADER_SLOTS - nSensors * oldSlots;
  if (rest < 0) throw new StateFormatError(`cannot decode asset state: a version ${version} state of ${old.length} numbers cannot hold ${nSensors} sensors`);
  const f = new Float64Array(HEADER_SLOTS + nSensors * SENSOR_SLOTS + rest);
  f.set(old.subarray(0, HEADER_SLOTS), 0);
  for (let i = 0; i < nSensors; i++) {
    const to = HEADER_SLOTS + i * SENSOR_SLOTS;
    sensor(f, HEADER_SLOTS + i * oldSlots, to);
    // The current core holds these slots at 32-bit precision (layout.ts).
    histogramRescale(f, to + SENSOR_HISTOGRAM);
    roundSensorFloat32(f, to);
  }
  f.set(old.subarray(HEADER_SLOTS + nSensors * oldSlots), HEADER_SLOTS + nSensors * SENSOR_SLOTS);
  return f;
}

/** Version 4 numbers in the current layout (see the file header for what carries over). */
function fromV4(old: Float64Array, nSensors: number): Float64Array {
  return convert(old, nSensors, V4_SENSOR_SLOTS, V4, (f, from, to) => {
    initSensor(f, to);
    f[to + SENSOR_LAST_VALID_TS] = old[from + V4_LAST_VALID_TS]!;
    f[to + SENSOR_RUN_VALUE] = old[from + V4_RUN_VALUE]!;
    f[to + SENSOR_RUN_LENGTH] = old[from + V4_RUN_LENGTH]!;
    f[to + SENSOR_RUN_START_TS] = old[from + V4_RUN_START_TS]!;
    f[to + SENSOR_MEAN_INTERVAL_MS] = old[from + V4_MEAN_INTERVAL_MS]!;
    f[to + SENSOR_SCORE] = old[from + V4_SCORE]!;
  });
}

/**
 * An older version's numbers whose sensor blocks are a prefix of the current one's (versions 7
 * and 6: the same slots, the newer evidence's slots missing at the block's end), in the current
 * layout: the same slots, then the missing ones as initSensor leaves them (zeros). Version 7
 * gains an empty run model and a step agreement that starts learning; version 6 also a jump
 * run that starts learning.
 */
function fromPrefix(old: Float64Array, nSensors: number, oldSlots: number, version: number): Float64Array {
  return convert(old, nSensors, oldSlots, version, (f, from, to) => f.set(old.subarray(from, from + oldSlots), to));
}

/** Version 5 numbers in the current layout (see the file header: nothing re-learns). */
function fromV5(old: Float64Array, nSensors: number): Float64Array {
  return convert(old, nSensors, V5_SENSOR_SLOTS, V5, (f, from, to) => {
    f.set(old.subarray(from, from + SENSOR_HISTOGRAM), to);
    const lo = old[from + SENSOR_MIN]!;
    const hi = old[from + SENSOR_MAX]!;
    const w = (hi - lo) / V5_BINS;
    for (let b = 0; b < V5_BINS; b++) f[to + SENSOR_HISTOGRAM + binOf(lo + (b + 0.5) * w, lo, hi)]! += old[from + SENSOR_HISTOGRAM + b]!;
    // The weight the next value adds.
    f[to + SENSOR_HISTOGRAM + HISTOGRAM_BINS] = old[from + SENSOR_HISTOGRAM + V5_BINS]!;
    f[to + SENSOR_LEVEL_LOW] = lo;
    f[to + SENSOR_LEVEL_HIGH] = hi;
    f[to + SENSOR_LEVEL_BREAKS] = old[from + SENSOR_RANGE_EXTENSIONS]!;
  });
}
