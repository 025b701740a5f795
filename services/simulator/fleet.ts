/**
 * The seeded fleet simulator: assets of each configured type with realistic telemetry
 * (weather and daily cycles, usage patterns such as trips, shifts, wash cycles and
 * compressor duty cycles, lagged thermal dynamics, noise, spikes, noise bursts, level
 * shifts, irregular sampling, connectivity gaps), sensor faults (stuck, NaN and infinite
 * bursts, out-of-range values, stale sensors, duplicate and out-of-order deliveries) and
 * injected degradations that end in failure at the mode's limit, followed by a repair.
 *
 * Pure: no clock, no I/O; the same options and config give the same fleet, reading for
 * reading. Ground truth is exact: a degradation starts at `degradationStartTs` and the
 * degraded sensor reaches the limit exactly at `failureTs` (the signal is the convex mix
 * healthy·(1−s^k) + limit·s^k with s the share of the degradation's wear done), after which
 * the asset is down until `repairTs`, when a maintenance event precedes its next reading.
 * Most wear accrues with wall time; wear of a part that only works while the machine runs
 * (a van's engine) accrues only in running time, so it pauses while the van is parked and
 * the failure comes while the engine runs.
 */
import type { CompiledConfig, CompiledFailureMode, CompiledSensor, MaintenanceEvent, Reading } from '../core/types.ts';
import { deriveSeed, Rng } from './prng.ts';

/** Options of createFleet. Times are epoch ms UTC. */
export interface FleetOptions {
  seed: number;
  /** Assets of each type (default 10); ignored when `total` is given. */
  assetsPerType?: number;
  /** Total assets, spread round-robin over the types. */
  total?: number;
  /** Asset types to simulate (default: every configured type except generic). */
  assetTypes?: readonly string[];
  startTs: number;
  days: number;
  /** Nominal sampling period, seconds (default 60); actual intervals jitter ±20%. */
  samplePeriodSec?: number;
  /** Share of assets that degrade and fail once during the run (default 0.3). */
  failureShare?: number;
  /** Share of assets with 1–3 sensor faults (default 0.3). */
  qualityFaultShare?: number;
}

/** Ground truth of one injected failure. */
export interface FailureTruth {
  failureMode: string;
  sensor: string;
  degradationStartTs: number;
  /** The degraded sensor reaches the limit at exactly this time; the asset then stops. */
  failureTs: number;
  /** The repair (a maintenance event) after which the asset reports again, healthy. */
  repairTs: number;
}

export type QualityFaultKind = 'stuck' | 'nan' | 'infinite' | 'out_of_range' | 'stale' | 'duplicate' | 'out_of_order';

/** Ground truth of one sensor or delivery fault; `sensor` absent for delivery faults. */
export interface QualityFaultTruth {
  kind: QualityFaultKind;
  sensor?: string;
  startTs: number;
  endTs: number;
}

export interface FleetAsset {
  assetId: string;
  assetType: string;
  failures: FailureTruth[];
  qualityFaults: QualityFaultTruth[];
}

/** What the fleet emits, in delivery order. */
export type FleetEvent = { type: 'reading'; reading: Reading } | { type: 'maintenance'; event: MaintenanceEvent };

export interface Fleet {
  assets: FleetAsset[];
  /** Readings of all assets merged in delivery order (time order except injected out-of-order faults). */
  readings(): Iterable<Reading>;
  /** Readings and maintenance events merged in delivery order. */
  events(): Iterable<FleetEvent>;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/**
 * Degradation length range (hours of wall time): wear that a week's horizon is configured
 * for (bearings, clogging filters) develops over days; engine wear on a van progresses only
 * while it runs, a shift a day, so it takes days of wall time; the rest takes one to four days.
 */
const degradationHours = (assetType: string, mode: CompiledFailureMode): [number, number] =>
  mode.horizonHours >= 150 ? [72, 240] : assetType === 'delivery_van' && !mode.name.startsWith('tire') ? [48, 144] : [24, 96];

/** A wear-in-use failure needs at least this much running time in its degradation (a day of driving). */
const MIN_WEAR_RUN_MS = 6 * HOUR;

const lag = (y: number, target: number, dtSec: number, tauSec: number): number =>
  y + (target - y) * (1 - Math.exp(-dtSec / tauSec));

/** Per-asset environment: outdoor temperature with weather and a daily cycle, local time. */
class Env {
  readonly base: number;
  readonly amp: number;
  readonly tzH: number;
  weather = 0;
  constructor(rng: Rng, lo: number, hi: number) {
    this.base = rng.uniform(lo, hi);
    this.amp = rng.uniform(3, 7);
    this.tzH = rng.int(-8, 3);
    this.weather = rng.normal() * 3;
  }
  step(rng: Rng, dtSec: number): void {
    // Ornstein–Uhlenbeck weather: ~4 °C spread, 2-day memory.
    const tau = 2 * 86400;
    this.weather += (-this.weather * dtSec) / tau + 4 * Math.sqrt((2 * dtSec) / tau) * rng.normal();
  }
  hour(t: number): number {
    return ((((t / HOUR + this.tzH) % 24) + 24) % 24);
  }
  day(t: number): number {
    return Math.floor((t + this.tzH * HOUR) / DAY);
  }
  outdoor(t: number): number {
    return this.base + this.weather + this.amp * Math.sin((2 * Math.PI * (this.hour(t) - 9)) / 24);
  }
}

/** A healthy-signal model of one asset type: fills `out` with the values at time t. */
interface Model {
  step(t: number, dtSec: number, out: Record<string, number>): void;
  /** Whether the degraded sensor is in the phase where the failure shows (moving drum, open valve...). */
  shows(sensor: string): boolean;
  /** Whether the machine runs now (a van's engine), for wear that accrues only in use. */
  running?(): boolean;
}

/** Intervals [start, end) in ms of local-day activities. */
type Span = [number, number];
const inSpans = (spans: Span[], t: number): Span | undefined => spans.find((s) => t >= s[0] && t < s[1]);

function evModel(rng: Rng, env: Env): Model {
  let day = -1;
  let trips: (Span & { load?: number })[] = [];
  const loads: number[] = [];
  let soc = rng.uniform(50, 90);
  let cell = env.outdoor(0) + 5;
  let motor = cell;
  const tireT = [20, 20, 20, 20];
  const nominal = rng.uniform(225, 255);
  const p0 = [0, 1, 2, 3].map(() => nominal + rng.uniform(-6, 6));
  let charging = false;
  return {
    step(t, dt, out) {
      env.step(rng, dt);
      const d = env.day(t);
      if (d !== day) {
        day = d;
        trips = [];
        loads.length = 0;
        const dayStart = d * DAY - env.tzH * HOUR;
        const weekday = ((d % 7) + 7) % 7 < 5;
        const add = (h: number, minutes: number): void => {
          const s = dayStart + h * HOUR;
          trips.push([s, s + minutes * 60_000]);
          loads.push(rng.uniform(0.3, 1));
        };
        if (rng.chance(weekday ? 0.85 : 0.3)) add(rng.uniform(6.5, 8.5), rng.uniform(20, 60));
        if (rng.chance(weekday ? 0.85 : 0.3)) add(rng.uniform(16.5, 18.5), rng.uniform(20, 70));
        for (let k = rng.int(0, 2); k > 0; k--) add(rng.uniform(10, 21), rng.uniform(10, 45));
        if (rng.chance(0.06)) add(rng.uniform(9, 13), rng.uniform(120, 240));
        // Natural slow leak; topped up when 10 kPa low (a level shift drivers cause).
        for (let i = 0; i < 4; i++) {
          p0[i] = p0[i]! - rng.uniform(0.1, 0.4);
          if (p0[i]! < nominal - 10) p0[i] = nominal + rng.uniform(-3, 3);
        }
      }
      const idx = trips.findIndex((s) => t >= s[0] && t < s[1]);
      const driving = idx >= 0;
      const load = driving ? loads[idx]! : 0;
      const h = env.hour(t);
      const amb = env.outdoor(t);
      if (driving) {
        charging = false;
        soc = Math.max(3, soc - (0.25 * load * dt) / 60);
      } else if (!charging && (h > 19 || h < 6) && soc < 70) charging = true;
      if (charging) {
        soc += (0.35 * dt) / 60;
        if (soc >= 90) charging = false;
      }
      // The thermal management system cools the pack above ~33 °C (with limited capacity).
      let cellTarget = amb + 3 + 10 * load + (charging ? 5 : 0);
      if (cellTarget > 33) cellTarget = 33 + 0.35 * (cellTarget - 33);
      cell = lag(cell, cellTarget, dt, 2400);
      motor = lag(motor, amb + 55 * load, dt, 900);
      for (let i = 0; i < 4; i++) tireT[i] = lag(tireT[i]!, amb + 20 * load, dt, 1200);
      out.battery_cell_temp_c = cell + 0.15 * rng.normal();
      out.battery_soc_pct = Math.min(100, soc + 0.05 * rng.normal());
      out.pack_voltage_v = 330 + 0.9 * soc - 25 * load + (charging ? 10 : 0) + 0.8 * rng.normal();
      out.motor_temp_c = motor + 0.4 * rng.normal();
      out.tire_pressure_fl_kpa = p0[0]! + 0.85 * (tireT[0]! - 20) + 0.4 * rng.normal();
      out.tire_pressure_fr_kpa = p0[1]! + 0.85 * (tireT[1]! - 20) + 0.4 * rng.normal();
      out.tire_pressure_rl_kpa = p0[2]! + 0.85 * (tireT[2]! - 20) + 0.4 * rng.normal();
      out.tire_pressure_rr_kpa = p0[3]! + 0.85 * (tireT[3]! - 20) + 0.4 * rng.normal();
    },
    shows: () => true,
  };
}

function vanModel(rng: Rng, env: Env): Model {
  let day = -1;
  let shift: Span = [0, 0];
  let engineOn = false;
  let nextSwitch = 0;
  let load = 0.5;
  let rpm = 1850;
  const engineRng = rng.fork(1); // engine speed and the crank's oil pressure
  let coolant = env.outdoor(0);
  let offSince = 0;
  let batt = 12.7;
  let pad = rng.uniform(6, 12);
  const nominal = rng.uniform(330, 370);
  const p0 = [0, 1, 2, 3].map(() => nominal + rng.uniform(-6, 6));
  const tireT = [20, 20, 20, 20];
  return {
    step(t, dt, out) {
      env.step(rng, dt);
      const d = env.day(t);
      if (d !== day) {
        day = d;
        const dayStart = d * DAY - env.tzH * HOUR;
        const dow = ((d % 7) + 7) % 7;
        shift = rng.chance(dow < 5 ? 0.9 : dow === 5 ? 0.3 : 0)
          ? [dayStart + rng.uniform(6.5, 8) * HOUR, dayStart + rng.uniform(15.5, 18) * HOUR]
          : [0, 0];
        for (let i = 0; i < 4; i++) {
          p0[i] = p0[i]! - rng.uniform(0.1, 0.4);
          if (p0[i]! < nominal - 12) p0[i] = nominal + rng.uniform(-3, 3);
        }
      }
      if (offSince === 0) offSince = t - 10 * HOUR; // parked overnight before the run
      const inShift = t >= shift[0] && t < shift[1];
      let cranking = false;
      if (!inShift) {
        if (engineOn) offSince = t;
        engineOn = false;
      } else if (t >= nextSwitch) {
        const wasOn = engineOn;
        engineOn = !engineOn || rng.chance(0.5); // at half the stops the engine keeps idling
        if (engineOn && !wasOn) cranking = true;
        if (!engineOn && wasOn) offSince = t;
        nextSwitch = t + (engineOn ? rng.uniform(5, 25) : rng.uniform(2, 15)) * 60_000;
        load = rng.uniform(0.2, 1);
        // The same load in a lower or higher gear: engine speed follows load only loosely.
        rpm = 750 + 2200 * load + engineRng.uniform(-150, 150);
      }
      const amb = env.outdoor(t);
      coolant = engineOn ? lag(coolant, 88 + 4 * load + 0.1 * (amb - 15), dt, 480) : lag(coolant, amb, dt, 2700);
      if (engineOn) pad -= 0.00002 * load * dt;
      if (pad < 3) pad = rng.uniform(10, 12); // new pads fitted
      // Resting voltage: surface charge fades over hours, then a slow parasitic drain; a
      // little lower in the cold.
      const restH = (t - offSince) / HOUR;
      batt = engineOn ? 14.1 : 12.62 + 0.25 * Math.exp(-restH / 3) - 0.0005 * restH + 0.004 * (amb - 15);
      for (let i = 0; i < 4; i++) tireT[i] = lag(tireT[i]!, amb + (engineOn ? 18 * load : 0), dt, 1200);
      out.engine_coolant_temp_c = coolant + 0.3 * rng.normal();
      // Oil pressure builds up with the engine's speed: at the crank it is still low. Its noise
      // is drawn at every step, the crank's too, so the stream's later draws stay as they were.
      const oilNoise = engineOn ? 12 * rng.normal() : Math.abs(rng.normal());
      out.oil_pressure_kpa = !engineOn
        ? oilNoise
        : cranking
          ? engineRng.uniform(10, 60)
          : Math.max(40, 180 + 220 * load - 0.8 * (coolant - 80) + oilNoise);
      // Engine speed as the ECU reports it: 0 with the engine off, the starter's speed while cranking.
      out.engine_speed_rpm = !engineOn ? 0 : cranking ? engineRng.uniform(150, 300) : Math.max(600, rpm + 40 * engineRng.normal());
      out.battery_12v_v = cranking ? rng.uniform(10.2, 11) : batt + 0.03 * rng.normal();
      out.brake_pad_mm = pad + 0.05 * rng.normal();
      out.tire_pressure_fl_kpa = p0[0]! + 0.85 * (tireT[0]! - 20) + 0.5 * rng.normal();
      out.tire_pressure_fr_kpa = p0[1]! + 0.85 * (tireT[1]! - 20) + 0.5 * rng.normal();
      out.tire_pressure_rl_kpa = p0[2]! + 0.85 * (tireT[2]! - 20) + 0.5 * rng.normal();
      out.tire_pressure_rr_kpa = p0[3]! + 0.85 * (tireT[3]! - 20) + 0.5 * rng.normal();
    },
    shows: (s) => s !== 'oil_pressure_kpa' || engineOn,
    running: () => engineOn,
  };
}

function fridgeModel(rng: Rng, env: Env): Model {
  let T = 4;
  let on = false;
  let wasOn = false;
  let evap = -5;
  const set = rng.uniform(3, 4.5);
  const cooling = rng.uniform(10, 16); // °C per hour with the compressor on
  const nominalA = rng.uniform(1.1, 1.6);
  return {
    step(t, dt, out) {
      env.step(rng, dt);
      const h = env.hour(t);
      const room = 21 + 0.2 * (env.outdoor(t) - 15) + 1.2 * Math.sin((2 * Math.PI * (h - 15)) / 24);
      if (h > 7 && h < 23 && rng.chance((12 / 16 / 3600) * dt)) T += rng.uniform(0.3, 1.5); // door opened
      T += ((room - T) / (6 * 3600)) * dt - (on ? (cooling / 3600) * dt : 0);
      if (T > set + 1) on = true;
      else if (T < set - 1) on = false;
      evap = on ? lag(evap, -22, dt, 300) : lag(evap, T, dt, 1200);
      // A 1-minute sample catches the start-up inrush only now and then.
      const inrush = on && !wasOn && rng.chance(0.1);
      wasOn = on;
      out.cabinet_temp_c = T + 0.1 * rng.normal();
      out.evaporator_temp_c = evap + 0.3 * rng.normal();
      out.compressor_current_a = on ? (inrush ? 3.5 : nominalA + 0.02 * (room - 20) + 0.05 * rng.normal()) : Math.max(0, 0.02 + 0.01 * rng.normal());
      out.ambient_temp_c = room + 0.2 * rng.normal();
    },
    shows: (s) => s !== 'compressor_current_a' || on,
  };
}

function washerModel(rng: Rng, env: Env): Model {
  let day = -1;
  // Each cycle: [start, fill1End, washEnd, drainEnd, fill2End, rinseEnd, spinEnd] and its temperature.
  let cycles: { p: number[]; temp: number }[] = [];
  const rate = rng.uniform(1.5, 5);
  const flowN = rng.uniform(9, 14);
  const vibN = rng.uniform(5, 8);
  let water = 18;
  let phase = 'idle';
  return {
    step(t, dt, out) {
      env.step(rng, dt);
      const d = env.day(t);
      if (d !== day) {
        day = d;
        cycles = [];
        const dayStart = d * DAY - env.tzH * HOUR;
        let s = dayStart + rng.uniform(7, 9) * HOUR;
        const n = Math.round(rate + rng.normal());
        for (let k = 0; k < n && s < dayStart + 22 * HOUR; k++) {
          const m = (x: number): number => (s += x * 60_000);
          const p = [s, m(3), m(rng.uniform(35, 50)), m(2), m(3), m(10), m(rng.uniform(8, 12))];
          cycles.push({ p, temp: rng.pick([30, 40, 40, 60]) });
          s += rng.uniform(0.3, 4) * HOUR;
        }
      }
      const c = cycles.find((x) => t >= x.p[0]! && t < x.p[6]!);
      const room = 18 + 0.15 * (env.outdoor(t) - 15);
      phase = 'idle';
      if (c) {
        const k = c.p.findIndex((x) => t < x);
        phase = ['idle', 'fill', 'wash', 'drain', 'fill', 'rinse', 'spin'][k] ?? 'idle';
        water = phase === 'wash' ? lag(water, c.temp, dt, 600) : lag(water, room + 2, dt, 1800);
      } else water = lag(water, room, dt, 3600);
      const moving = phase === 'wash' || phase === 'rinse' || phase === 'spin';
      out.drum_vibration_mm_s = Math.max(0, phase === 'spin' ? vibN + rng.normal() : moving ? 3 + 0.6 * rng.normal() : 0.15 + 0.05 * rng.normal());
      out.motor_current_a = Math.max(0, phase === 'spin' ? 4.5 + 0.3 * rng.normal() : moving ? 2.2 + 0.4 * rng.normal() : 0.02 + 0.01 * rng.normal());
      out.water_inlet_flow_lpm = phase === 'fill' ? Math.max(0, flowN + 0.6 * rng.normal()) : 0;
      out.water_temp_c = water + 0.2 * rng.normal();
    },
    shows: (s) =>
      s === 'drum_vibration_mm_s' ? phase === 'wash' || phase === 'rinse' || phase === 'spin' : s === 'water_inlet_flow_lpm' ? phase === 'fill' : true,
  };
}

function hvacModel(rng: Rng, env: Env): Model {
  let fan = false;
  let on = false;
  let wasOn = false;
  let nextSwitch = 0;
  let supply = 22;
  let ret = 22;
  let press = 950;
  const fanN = rng.uniform(2, 3.5);
  const ampN = rng.uniform(16, 20);
  return {
    step(t, dt, out) {
      env.step(rng, dt);
      const h = env.hour(t);
      const dow = ((env.day(t) % 7) + 7) % 7;
      const amb = env.outdoor(t);
      fan = dow < 5 ? h >= 6 && h < 22 : h >= 8 && h < 18;
      // A heat pump: the compressor cools on warm days and heats on cold ones.
      const heating = amb < 18;
      const duty = Math.min(0.95, Math.max(0.1, Math.abs(amb - 18) / 15));
      if (!fan) on = false;
      else if (t >= nextSwitch) {
        on = !on;
        nextSwitch = t + (on ? duty : 1 - duty) * rng.uniform(12, 20) * 60_000;
      }
      const inrush = on && !wasOn && rng.chance(0.1);
      wasOn = on;
      const indoor = 23 + 0.1 * (amb - 25);
      ret = lag(ret, fan ? indoor : 22 + 0.3 * (amb - 22), dt, 1800);
      supply = on ? lag(supply, heating ? 35 : 13, dt, 120) : lag(supply, ret, dt, 300);
      press = on ? lag(press, 1150 + 12 * (amb - 25), dt, 120) : lag(press, 950 + 5 * (amb - 20), dt, 600);
      out.supply_air_temp_c = supply + 0.3 * rng.normal();
      out.return_air_temp_c = ret + 0.2 * rng.normal();
      out.compressor_current_a = on ? (inrush ? rng.uniform(40, 50) : ampN + 0.25 * Math.abs(amb - 18) + 0.6 * rng.normal()) : Math.max(0, 0.3 + 0.05 * rng.normal());
      out.refrigerant_pressure_kpa = press + 15 * rng.normal();
      out.fan_vibration_mm_s = Math.max(0, fan ? fanN + (on ? 0.4 : 0) + 0.25 * rng.normal() : 0.05 + 0.02 * rng.normal());
    },
    shows: (s) => (s === 'compressor_current_a' ? on : s === 'fan_vibration_mm_s' ? fan : true),
  };
}

/**
 * The healthy-signal model of each asset type, its climate range (°C), and the failure modes
 * whose wear accrues only while the model is `running()` (an oil pump or a water pump wears
 * while the engine turns; a battery ages parked too).
 */
const MODELS: Record<string, { make: (rng: Rng, env: Env) => Model; climate: [number, number]; wearInUse?: readonly string[] }> = {
  passenger_ev: { make: evModel, climate: [5, 22] },
  delivery_van: { make: vanModel, climate: [5, 22], wearInUse: ['coolant_overheating', 'oil_pressure_loss'] },
  refrigerator: { make: fridgeModel, climate: [5, 22] },
  washing_machine: { make: washerModel, climate: [5, 22] },
  hvac_unit: { make: hvacModel, climate: [14, 28] },
};

/** Model for a configured type without a dedicated one: noisy daily cycles around mid-range. */
function genericModel(sensors: readonly CompiledSensor[]): (rng: Rng, env: Env) => Model {
  return (rng, env) => {
    const mids = sensors.map((s) => s.min + (s.max - s.min) * rng.uniform(0.35, 0.5));
    return {
      step(t, dt, out) {
        env.step(rng, dt);
        const c = Math.sin((2 * Math.PI * (env.hour(t) - 9)) / 24);
        sensors.forEach((s, i) => {
          out[s.name] = mids[i]! + (s.max - s.min) * (0.03 * c + 0.005 * rng.normal());
        });
      },
      shows: () => true,
    };
  };
}

interface ShiftTruth {
  sensor: string;
  fromTs: number;
  offset: number;
}

/** One asset's generator: emits its events in delivery order. */
class AssetSim {
  readonly truth: FleetAsset;
  private readonly rng: Rng;
  private readonly model: Model;
  private readonly sensors: readonly CompiledSensor[];
  private mode: CompiledFailureMode | undefined;
  /**
   * Wear that accrues only while the model runs: running time in the degradation so far
   * (counted on steps before `untilTs` and while under `capMs`), when it first and last grew,
   * the running time at which the part fails, and whether the model ran at the last step.
   */
  private wear:
    | { ms: number; firstTs: number; lastTs: number; untilTs: number; capMs: number; totalMs: number; running: boolean }
    | undefined;
  private readonly shape: number;
  private readonly shifts: ShiftTruth[] = [];
  private t: number;
  private lastStep: number;
  private readonly buf: FleetEvent[] = [];
  private held: Reading | undefined;
  private offlineUntil = 0;
  private stuckVals = new Map<QualityFaultTruth, number>();
  private burst: { sensor: string; until: number; sd: number } | undefined;
  private repaired = false;
  private readonly values: Record<string, number> = {};
  /** Delivery time of the next event, or Infinity when done. */
  nextTs = 0;

  constructor(
    readonly index: number,
    assetId: string,
    assetType: string,
    private readonly cfg: CompiledConfig,
    private readonly opts: Required<Omit<FleetOptions, 'assetsPerType' | 'total' | 'assetTypes'>>,
    fails: boolean,
    faulty: boolean,
    /** A twin that only measures running time: it never goes down. */
    private readonly probe = false,
  ) {
    this.rng = new Rng(deriveSeed(opts.seed, index));
    const rng = this.rng;
    const at = cfg.assetTypes.get(assetType)!;
    this.sensors = at.sensors;
    const m = MODELS[assetType];
    const env = new Env(rng, ...(m?.climate ?? [5, 22]));
    this.model = (m?.make ?? genericModel(at.sensors))(rng, env);
    const end = opts.startTs + opts.days * DAY;
    this.truth = { assetId, assetType, failures: [], qualityFaults: [] };
    this.shape = rng.uniform(1, 1.5);
    if (fails && at.failureModes.length > 0) {
      const mode = rng.pick(at.failureModes);
      const [lo, hi] = degradationHours(assetType, mode);
      const D = rng.uniform(lo, hi) * HOUR;
      // Leave the trackers' learning period (and a margin) healthy before any degradation.
      const earliest = opts.startTs + (cfg.detector.modeLearningHours + 36) * HOUR;
      const latest = end - D - 6 * HOUR;
      if (latest > earliest) {
        const start = Math.round(rng.uniform(earliest, latest));
        const failureTs = Math.round(start + D);
        this.mode = mode;
        this.truth.failures.push({
          failureMode: mode.name,
          sensor: rng.pick(mode.sensors),
          degradationStartTs: start,
          failureTs,
          repairTs: Math.round(failureTs + rng.uniform(4, 24) * HOUR),
        });
        if (m?.wearInUse?.includes(mode.name)) this.wear = { ms: 0, firstTs: NaN, lastTs: NaN, untilTs: Infinity, capMs: Infinity, totalMs: Infinity, running: false };
      }
    }
    if (faulty) {
      const kinds: QualityFaultKind[] = ['stuck', 'nan', 'infinite', 'out_of_range', 'stale', 'duplicate', 'out_of_order'];
      const mins: Record<QualityFaultKind, [number, number]> = {
        stuck: [60, 360],
        nan: [5, 60],
        infinite: [1, 10],
        out_of_range: [1, 30],
        stale: [30, 240],
        duplicate: [10, 60],
        out_of_order: [10, 60],
      };
      for (let k = rng.int(1, 3); k > 0; k--) {
        const kind = rng.pick(kinds);
        const [lo, hi] = mins[kind];
        const startTs = Math.round(rng.uniform(opts.startTs + DAY, end - 6 * HOUR));
        const q: QualityFaultTruth = { kind, startTs, endTs: Math.round(startTs + rng.uniform(lo, hi) * 60_000) };
        if (kind !== 'duplicate' && kind !== 'out_of_order') q.sensor = rng.pick(at.sensors).name;
        this.truth.qualityFaults.push(q);
      }
    }
    // Recalibrations: a small persistent offset on some sensors (real, not a fault).
    for (const s of at.sensors)
      if (rng.chance(0.1))
        this.shifts.push({
          sensor: s.name,
          fromTs: rng.uniform(opts.startTs, end),
          offset: (rng.chance(0.5) ? 1 : -1) * rng.uniform(0.002, 0.005) * (s.max - s.min),
        });
    this.t = opts.startTs + Math.floor(rng.uniform(0, opts.samplePeriodSec * 1000));
    this.lastStep = this.t - opts.samplePeriodSec * 1000;
    if (this.wear && !probe) this.settleWear(new AssetSim(index, assetId, assetType, cfg, opts, fails, faulty, true));
    this.advance();
  }

  /**
   * Places a wear-in-use failure: the wear starts when the machine first runs in the drawn
   * window, and the part fails when the running time reaches what the machine runs in the
   * window (at least an hour), so both ends fall on running steps. A twin with the same seed
   * replays the stream up to there, which this asset repeats exactly. If the machine never
   * runs that long before the end, the asset stays healthy.
   */
  private settleWear(twin: AssetSim): void {
    const f = this.truth.failures[0]!;
    const w = twin.wear!;
    w.untilTs = f.failureTs;
    while (twin.nextTs !== Infinity && twin.t <= f.failureTs) twin.take();
    if (w.ms < MIN_WEAR_RUN_MS) {
      w.untilTs = Infinity;
      w.capMs = MIN_WEAR_RUN_MS;
      while (twin.nextTs !== Infinity && w.ms < MIN_WEAR_RUN_MS) twin.take();
    }
    if (w.ms < MIN_WEAR_RUN_MS) {
      this.truth.failures.length = 0;
      this.mode = undefined;
      this.wear = undefined;
      return;
    }
    const repairDelay = f.repairTs - f.failureTs;
    f.degradationStartTs = w.firstTs;
    f.failureTs = w.lastTs;
    f.repairTs = w.lastTs + repairDelay;
    this.wear!.totalMs = w.ms;
  }

  private get end(): number {
    return this.opts.startTs + this.opts.days * DAY;
  }

  /** Fills the buffer with the next event(s) and sets nextTs. */
  private advance(): void {
    const period = this.opts.samplePeriodSec * 1000;
    while (this.buf.length === 0) {
      if (this.t >= this.end) {
        if (this.held) {
          this.buf.push({ type: 'reading', reading: this.held });
          this.held = undefined;
          break;
        }
        this.nextTs = Infinity;
        return;
      }
      const t = this.t;
      const dtSec = (t - this.lastStep) / 1000;
      this.lastStep = t;
      this.t = Math.round(t + period * this.rng.uniform(0.8, 1.2));
      const f = this.truth.failures[0];
      if (f && !this.probe && t >= f.failureTs && t < f.repairTs) continue; // down: not reporting
      if (f && t >= f.repairTs && !this.repaired) {
        this.repaired = true;
        this.buf.push({ type: 'maintenance', event: { assetId: this.truth.assetId, ts: f.repairTs, failureMode: f.failureMode } });
      }
      this.model.step(t, dtSec, this.values);
      const w = this.wear;
      if (w) {
        // The interval up to this step wore the part if the machine ran through it (from a
        // step in the drawn window on, so the wear starts at a running step).
        const from = t - dtSec * 1000;
        if (w.running && from >= f!.degradationStartTs && t < w.untilTs && w.ms < w.capMs) {
          if (w.ms === 0) w.firstTs = from;
          w.ms += dtSec * 1000;
          w.lastTs = t;
        }
        w.running = this.model.running?.() ?? true;
      }
      if (t < this.offlineUntil) continue;
      if (this.rng.chance((0.15 * dtSec) / 86400)) {
        this.offlineUntil = t + this.rng.uniform(0.5, 6) * HOUR; // connectivity gap, ~1 a week
        continue;
      }
      if (this.rng.chance(0.02)) continue; // a dropped message
      this.emit(t, f);
    }
    const b = this.buf[0]!;
    this.nextTs = b.type === 'reading' ? b.reading.ts : b.event.ts;
  }

  private emit(t: number, f: FailureTruth | undefined): void {
    const rng = this.rng;
    const values: Record<string, number> = {};
    if (!this.burst && rng.chance(0.0005)) {
      const s = rng.pick(this.sensors);
      this.burst = { sensor: s.name, until: t + rng.uniform(10, 60) * 60_000, sd: 0.01 * (s.max - s.min) };
    }
    if (this.burst && t >= this.burst.until) this.burst = undefined;
    for (const s of this.sensors) {
      let v = this.values[s.name]!;
      for (const sh of this.shifts) if (sh.sensor === s.name && t >= sh.fromTs) v += sh.offset;
      if (this.burst?.sensor === s.name) v += this.burst.sd * rng.normal();
      if (rng.chance(0.0003)) v += (rng.chance(0.5) ? 1 : -1) * rng.uniform(0.03, 0.1) * (s.max - s.min); // spike
      v = Math.min(s.max, Math.max(s.min, v));
      if (f && this.mode && s.name === f.sensor && t >= f.degradationStartTs && t < f.failureTs && this.model.shows(s.name)) {
        const done = this.wear ? Math.min(1, this.wear.ms / this.wear.totalMs) : (t - f.degradationStartTs) / (f.failureTs - f.degradationStartTs);
        const k = Math.pow(done, this.shape);
        v = v * (1 - k) + this.mode.limit * k;
      }
      values[s.name] = Math.round(v * 1000) / 1000;
    }
    let dup = false;
    let late = false;
    for (const q of this.truth.qualityFaults) {
      if (t < q.startTs || t >= q.endTs) {
        if (q.kind === 'stuck') this.stuckVals.delete(q);
        continue;
      }
      const name = q.sensor;
      switch (q.kind) {
        case 'stuck': {
          if (!this.stuckVals.has(q)) this.stuckVals.set(q, values[name!]!);
          values[name!] = this.stuckVals.get(q)!;
          break;
        }
        case 'nan':
          values[name!] = NaN;
          break;
        case 'infinite':
          values[name!] = rng.chance(0.5) ? Infinity : -Infinity;
          break;
        case 'out_of_range': {
          const s = this.sensors.find((x) => x.name === name)!;
          values[name!] = rng.chance(0.5) ? s.max + rng.uniform(0.05, 1) * (s.max - s.min) : s.min - rng.uniform(0.05, 1) * (s.max - s.min);
          break;
        }
        case 'stale':
          delete values[name!];
          break;
        case 'duplicate':
          dup = true;
          break;
        case 'out_of_order':
          late = true;
          break;
      }
    }
    const reading: Reading = { assetId: this.truth.assetId, assetType: this.truth.assetType, ts: t, values };
    if (late && !this.held) {
      this.held = reading; // delivered after the next reading
      return;
    }
    this.buf.push({ type: 'reading', reading });
    if (dup) this.buf.push({ type: 'reading', reading: { ...reading, values: { ...values } } });
    if (this.held) {
      this.buf.push({ type: 'reading', reading: this.held });
      this.held = undefined;
    }
  }

  /** Removes and returns the next event. */
  take(): FleetEvent {
    const e = this.buf.shift()!;
    if (this.buf.length === 0) this.advance();
    else {
      // A late (out-of-order) reading goes out right after its successor; anything else at its own time.
      const b = this.buf[0]!;
      this.nextTs = Math.max(this.nextTs, b.type === 'reading' ? b.reading.ts : b.event.ts);
    }
    return e;
  }
}

/**
 * Creates a seeded fleet. Assets are named `<type>-<nnnn>`; a share `failureShare` of them
 * degrade and fail once (a random failure mode and sensor of their type), a share
 * `qualityFaultShare` get 1–3 sensor or delivery faults.
 */
export function createFleet(options: FleetOptions, cfg: CompiledConfig): Fleet {
  const types = options.assetTypes ?? [...cfg.assetTypes.keys()].filter((t) => !cfg.assetTypes.get(t)!.generic);
  for (const t of types) {
    const at = cfg.assetTypes.get(t);
    if (!at || at.generic) throw new Error(`createFleet: asset type "${t}" is not configured (or is generic, which has no sensors to simulate)`);
  }
  const opts = {
    seed: options.seed,
    startTs: options.startTs,
    days: options.days,
    samplePeriodSec: options.samplePeriodSec ?? 60,
    failureShare: options.failureShare ?? 0.3,
    qualityFaultShare: options.qualityFaultShare ?? 0.3,
  };
  const specs: { id: string; type: string }[] = [];
  const counters = new Map<string, number>();
  const total = options.total ?? (options.assetsPerType ?? 10) * types.length;
  for (let i = 0; i < total; i++) {
    const type = types[i % types.length]!;
    const n = (counters.get(type) ?? 0) + 1;
    counters.set(type, n);
    specs.push({ id: `${type}-${String(n).padStart(4, '0')}`, type });
  }
  const make = (): AssetSim[] => {
    const pick = new Rng(deriveSeed(opts.seed, 0x7fffffff));
    return specs.map(
      (s, i) => new AssetSim(i, s.id, s.type, cfg, opts, pick.chance(opts.failureShare), pick.chance(opts.qualityFaultShare)),
    );
  };
  const assets = make().map((a) => a.truth);
  function* events(): Generator<FleetEvent> {
    const sims = make();
    // Binary min-heap on (nextTs, index): a deterministic merge across assets.
    const heap = sims.filter((s) => s.nextTs !== Infinity);
    const less = (a: AssetSim, b: AssetSim): boolean => a.nextTs < b.nextTs || (a.nextTs === b.nextTs && a.index < b.index);
    const down = (i: number): void => {
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < heap.length && less(heap[l]!, heap[m]!)) m = l;
        if (r < heap.length && less(heap[r]!, heap[m]!)) m = r;
        if (m === i) return;
        [heap[i], heap[m]] = [heap[m]!, heap[i]!];
        i = m;
      }
    };
    for (let i = (heap.length >> 1) - 1; i >= 0; i--) down(i);
    while (heap.length > 0) {
      const top = heap[0]!;
      yield top.take();
      if (top.nextTs === Infinity) {
        heap[0] = heap[heap.length - 1]!;
        heap.pop();
      }
      down(0);
    }
  }
  return {
    assets,
    events,
    *readings() {
      for (const e of events()) if (e.type === 'reading') yield e.reading;
    },
  };
}
