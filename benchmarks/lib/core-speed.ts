/**
 * The speed figures of the core benchmark, measured in one process: the core on 8-sensor
 * passenger_ev readings (default configuration and three windows, timed interleaved), the
 * core over a fleet of assets interleaved, and the two baselines (avsc decoding the same
 * readings, the naive recompute at window 1024). `npm run bench` runs this in several child
 * processes (`core-speed-child.ts`) and reports the median of each figure: the same core
 * measured 2.8–3.8 µs a reading from one process to the next (the JIT's history decides as
 * much as the code), a spread wider than the margins to the targets.
 */
import { compileConfig, DEFAULT_CONFIG, encodeState, newState, score } from '../../services/core/index.ts';
import type { AssetState, CompiledConfig, Reading } from '../../services/core/types.ts';
import { naiveFill, naiveScore, naiveState } from '../naive.ts';
import { decodeWire, encodeWire, readingType } from './avro.ts';
import { evReadings } from './fixtures.ts';
import { measure, measureInterleaved, type Measurement } from './timing.ts';

export interface SpeedOptions {
  /** Assets scored round robin (10). */
  assets: number;
  /** Assets of the interleaved fleet-scale figure (100,000). */
  fleetAssets: number;
}

/** Untimed readings per asset before timing: past the learning periods and a full 4096 window. */
export const WARM_READINGS = 4_200;
/** Readings per asset in one timed repetition (assets × this per repetition). */
export const REP_READINGS = 2_000;
export const WARMUPS = 1;
export const REPETITIONS = 7;
/** Repetitions of the fleet-scale figure (each one reading for every one of the fleet's assets). */
export const FLEET_REPETITIONS = 5;
/** The naive recompute is ~1000× slower: fewer readings per repetition keep it to ~1 s. */
export const NAIVE_WINDOW = 1_024;
const NAIVE_REP_READINGS = 40;
/** Its repetitions: 0.12 s each; with 5 its median moved 287–322 µs a reading from run to run. */
const NAIVE_REPETITIONS = 9;

/** One process's figures: nanoseconds per reading (medians of its repetitions). */
export interface SpeedFigures {
  coreNs: number;
  fleetNs: number;
  decodeNs: number;
  w64Ns: number;
  w1024Ns: number;
  w4096Ns: number;
  naiveNs: number;
  /** encodeState length of the largest of the 10-asset run's states. */
  stateBytes: number;
  /** Of every score and decoded time, so no work can be optimised away. */
  checksum: number;
}

/** Measures every speed figure once, in this process. */
export function measureSpeed(opts: SpeedOptions): SpeedFigures {
  const { assets: ASSETS, fleetAssets: FLEET_ASSETS } = opts;
  let checksum = 0;

  // ---- fixtures (untimed) ----
  const perAsset = REP_READINGS * (WARMUPS + REPETITIONS);
  const series: Reading[][] = [];
  for (let a = 0; a < ASSETS; a++) series.push(evReadings(a, 0, WARM_READINGS + perAsset + WARMUPS + FLEET_REPETITIONS));
  /** Round-robin slice [from, from+count) of every asset's series, with asset indexes. */
  const slice = (from: number, count: number): { readings: Reading[]; asset: Int32Array } => {
    const readings: Reading[] = [];
    const asset = new Int32Array(count * ASSETS);
    for (let i = 0; i < count; i++) {
      for (let a = 0; a < ASSETS; a++) {
        asset[readings.length] = a;
        readings.push(series[a]![from + i]!);
      }
    }
    return { readings, asset };
  };
  const warm = slice(0, WARM_READINGS);
  const reps = Array.from({ length: WARMUPS + REPETITIONS }, (_, r) => slice(WARM_READINGS + r * REP_READINGS, REP_READINGS));

  // ---- the core: the default configuration and the three windows, timed interleaved ----
  // Repetition by repetition (measureInterleaved), each figure sees the JIT after the same
  // history: timed one after another, the later ones sometimes ran at 4.95 µs a reading
  // against 3.17 for the first, a ratio of the order, not of the code.
  interface CoreRun {
    cfg: CompiledConfig;
    states: AssetState[];
  }
  const coreRun = (cfg: CompiledConfig): CoreRun => {
    const states = Array.from({ length: ASSETS }, (_, a) => newState(series[a]![0]!.assetId, 'passenger_ev', cfg));
    for (let k = 0; k < warm.readings.length; k++) score(states[warm.asset[k]!]!, warm.readings[k]!, cfg);
    return { cfg, states };
  };
  const timeCore =
    (run: CoreRun) =>
    (rep: number): number => {
      const { readings, asset } = reps[rep]!;
      const { cfg, states } = run;
      let sum = 0;
      for (let k = 0; k < readings.length; k++) {
        const a = asset[k]!;
        const step = score(states[a]!, readings[k]!, cfg);
        states[a] = step.state;
        sum += step.score;
      }
      checksum += sum;
      return readings.length;
    };
  const withWindow = (w: number): CompiledConfig => (DEFAULT_CONFIG.detector.windowSize === w ? DEFAULT_CONFIG : compileConfig({ detector: { windowSize: w } }));
  const runs = { core: coreRun(DEFAULT_CONFIG), w64: coreRun(withWindow(64)), w1024: coreRun(withWindow(NAIVE_WINDOW)), w4096: coreRun(withWindow(4096)) };
  const timed = measureInterleaved(
    { core: timeCore(runs.core), w64: timeCore(runs.w64), w1024: timeCore(runs.w1024), w4096: timeCore(runs.w4096) },
    { warmups: WARMUPS, repetitions: REPETITIONS },
  );

  // ---- the core at fleet scale: FLEET_ASSETS states, readings interleaved ----
  // The states are copies of the 10 warmed-up ones (steady state, each in its own memory), so
  // building them takes a moment instead of FLEET_ASSETS × WARM_READINGS readings. Each
  // repetition gives every asset one reading, in a shuffled order (a partition interleaves its
  // assets' readings as they arrive), so consecutive readings never share a state.
  const fleetStates = Array.from({ length: FLEET_ASSETS }, (_, k) => {
    const s = runs.core.states[k % ASSETS]!;
    return { ...s, assetId: `${s.assetId}-${k}`, f: s.f.slice() };
  });
  const order = Int32Array.from({ length: FLEET_ASSETS }, (_, k) => k);
  let seed = 0x9e3779b9;
  for (let i = order.length - 1; i > 0; i--) {
    seed = (Math.imul(seed ^ (seed >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    const j = seed % (i + 1);
    const tmp = order[i]!;
    order[i] = order[j]!;
    order[j] = tmp;
  }
  const fleet = measure(
    (rep) => {
      let sum = 0;
      for (let q = 0; q < FLEET_ASSETS; q++) {
        const k = order[q]!;
        sum += score(fleetStates[k]!, series[k % ASSETS]![WARM_READINGS + perAsset + rep]!, DEFAULT_CONFIG).score;
      }
      checksum += sum;
      return FLEET_ASSETS;
    },
    { warmups: WARMUPS, repetitions: FLEET_REPETITIONS },
  );

  // ---- avsc decode of the same readings ----
  const type = readingType();
  const wire = reps.map((r) => encodeWire(type, r.readings));
  const decode = measure(
    (rep) => {
      const bufs = wire[rep]!;
      let sum = 0;
      for (let k = 0; k < bufs.length; k++) sum += decodeWire(type, bufs[k]!).reading.ts;
      checksum += sum % 7;
      return bufs.length;
    },
    { warmups: WARMUPS, repetitions: REPETITIONS },
  );

  // ---- naive recompute at window 1024 ----
  const naiveStates = Array.from({ length: ASSETS }, () => naiveState());
  for (let k = 0; k < warm.readings.length; k++) naiveFill(naiveStates[warm.asset[k]!]!, warm.readings[k]!, NAIVE_WINDOW);
  const naive = measure(
    (rep) => {
      // More repetitions than the core's slices: the naive windows take values, not times, so a slice comes round again.
      const { readings, asset } = reps[rep % reps.length]!;
      const n = NAIVE_REP_READINGS * ASSETS;
      let sum = 0;
      for (let k = 0; k < n; k++) sum += naiveScore(naiveStates[asset[k]!]!, readings[k]!, NAIVE_WINDOW);
      checksum += sum;
      return n;
    },
    { warmups: 1, repetitions: NAIVE_REPETITIONS },
  );

  const ns = (m: Measurement): number => m.nsPerOp;
  return {
    coreNs: ns(timed.core),
    fleetNs: ns(fleet),
    decodeNs: ns(decode),
    w64Ns: ns(timed.w64),
    w1024Ns: ns(timed.w1024),
    w4096Ns: ns(timed.w4096),
    naiveNs: ns(naive),
    stateBytes: Math.max(...runs.core.states.map((s) => encodeState(s).length)),
    checksum,
  };
}
