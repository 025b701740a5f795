/**
 * Configuration of the scoring core: merges a user file (already JSON-parsed) over
 * DEFAULT_RAW_CONFIG, validates every field, and compiles it into a frozen, typed
 * CompiledConfig with the slot layout the asset states use. A bad file is rejected with a
 * ConfigError listing every problem at once, each with its path and reason.
 *
 * Merge rules: `version` replaces; `detector` merges key by key; an asset type merges over
 * the default type of the same name (description replaces, sensors and failure modes merge
 * by name, each field over the default's); a new asset type must be complete.
 */
import { DEFAULT_RAW_CONFIG } from './default-config.ts';
import { deriveParams } from './derived.ts';
import { SENSOR_ABS_MAX } from './layout.ts';
import type {
  CompiledAssetType,
  CompiledConfig,
  CompiledFailureMode,
  CompiledSensor,
  DetectorParams,
} from './types.ts';

/** Name of the built-in asset type whose sensors are discovered from the readings. */
export const GENERIC_TYPE = 'generic';

/** One validation problem: where (dotted path) and why. */
export interface ConfigIssue {
  path: string;
  message: string;
}

/** A configuration that cannot be used; `.issues` lists every problem found. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly issues: readonly ConfigIssue[]) {
    super(
      `invalid configuration (${issues.length} problem${issues.length === 1 ? '' : 's'}):\n` +
        issues.map((i) => `  ${i.path}: ${i.message}`).join('\n'),
    );
  }
}

/** Default detector parameters (units in the names; see DetectorParams for meaning). */
export const DEFAULT_DETECTOR: Readonly<DetectorParams> = Object.freeze({
  windowSize: 4096,
  learningReadings: 300,
  spreadHalfLifeReadings: 35,
  slowSpreadHalfLifeReadings: 350,
  surpriseHalfLifeReadings: 7,
  shiftFastHalfLifeReadings: 7,
  shiftSlowHalfLifeReadings: 230,
  rarityHalfLifeReadings: 3,
  tailShare: 0.02,
  jumpTailProbability: 1e-5,
  rarityTailProbability: 1e-5,
  surpriseTailProbability: 1e-4,
  shiftTailProbability: 1e-4,
  rangeMarginShare: 0.05,
  rangeMarginSpreads: 3,
  rangeBreakProbability: 0.03,
  levelBreakHalfLifeReadings: 30,
  levelBreakProbability: 0.01,
  jumpRunHalfLifeReadings: 30,
  jumpRunTailProbability: 3e-4,
  shiftRunTailProbability: 1e-6,
  shiftRunLearningReadings: 3000,
  stepAgreementTailProbability: 3e-4,
  rarityGateShare: 0.3,
  shiftClipSpreads: 5,
  stuckReadings: 20,
  stuckMinutes: 30,
  staleAfterPeriods: 10,
  gapCapPeriods: 5,
  maxActivityHoursPerValue: 1,
  levelHalfLifeHours: 0.5,
  levelWallHalfLifeHours: 2,
  levelMaxWeight: 0.25,
  trendWallHalfLifeHours: 24,
  trendHalfLifeHours: 8,
  baseHalfLifeHours: 48,
  modeLearningHours: 168,
  peakRisePerHour: 0.02,
  peakFallPerHour: 0.002,
  peakMarginDev: 1,
  troughFastHalfLifeHours: 0.1,
  troughSlowHalfLifeHours: 1.5,
  troughMarginDev: 0.5,
  significanceDev: 4,
  departureDevStart: 2.5,
  departureDevFull: 4,
  progressStart: 0.05,
  progressFull: 0.35,
  raiseThreshold: 0.5,
  clearRatio: 0.5,
  clearMinutes: 1080,
  minDurationMinutes: 60,
  minRaiseReadings: 3,
  minClearReadings: 10,
  updateDelta: 0.15,
  maxGenericSensors: 32,
});

/** Bounds of each detector parameter: [min, max, integer?]. */
const DETECTOR_BOUNDS: Record<keyof DetectorParams, [number, number, boolean]> = {
  windowSize: [8, 65536, true],
  learningReadings: [0, 1e7, true],
  spreadHalfLifeReadings: [1, 1e7, false],
  slowSpreadHalfLifeReadings: [1, 1e7, false],
  surpriseHalfLifeReadings: [0.1, 1e6, false],
  shiftFastHalfLifeReadings: [0.1, 1e6, false],
  shiftSlowHalfLifeReadings: [1, 1e7, false],
  rarityHalfLifeReadings: [0.1, 1e6, false],
  tailShare: [1e-4, 0.5, false],
  jumpTailProbability: [1e-300, 0.5, false],
  rarityTailProbability: [1e-300, 0.5, false],
  surpriseTailProbability: [1e-300, 0.5, false],
  shiftTailProbability: [1e-300, 0.5, false],
  rangeMarginShare: [0, 1e6, false],
  rangeMarginSpreads: [0, 1e6, false],
  rangeBreakProbability: [1e-300, 0.5, false],
  levelBreakHalfLifeReadings: [0.1, 1e7, false],
  levelBreakProbability: [1e-300, 0.5, false],
  jumpRunHalfLifeReadings: [0.1, 1e6, false],
  jumpRunTailProbability: [1e-300, 0.5, false],
  shiftRunTailProbability: [1e-300, 0.5, false],
  shiftRunLearningReadings: [0, 1e7, true],
  stepAgreementTailProbability: [1e-300, 0.5, false],
  rarityGateShare: [0, 2, false],
  shiftClipSpreads: [0.1, 1e6, false],
  stuckReadings: [2, 1e7, true],
  stuckMinutes: [0, 1e7, false],
  staleAfterPeriods: [1, 1e6, false],
  gapCapPeriods: [1, 1e6, false],
  maxActivityHoursPerValue: [1e-3, 1e6, false],
  levelHalfLifeHours: [1e-3, 1e4, false],
  levelWallHalfLifeHours: [1e-3, 1e6, false],
  levelMaxWeight: [1e-3, 1, false],
  trendWallHalfLifeHours: [1e-2, 1e6, false],
  trendHalfLifeHours: [1e-2, 1e5, false],
  baseHalfLifeHours: [1e-2, 1e6, false],
  modeLearningHours: [0, 1e6, false],
  peakRisePerHour: [0, 1e3, false],
  peakFallPerHour: [0, 1e3, false],
  peakMarginDev: [0, 1e3, false],
  troughFastHalfLifeHours: [1e-3, 1e4, false],
  troughSlowHalfLifeHours: [1e-3, 1e4, false],
  troughMarginDev: [0, 1e3, false],
  significanceDev: [0.1, 1e3, false],
  departureDevStart: [0.1, 1e3, false],
  departureDevFull: [0.1, 1e3, false],
  progressStart: [0, 10, false],
  progressFull: [0, 10, false],
  raiseThreshold: [1e-6, 1, false],
  clearRatio: [0, 1, false],
  clearMinutes: [0, 1e7, false],
  minDurationMinutes: [0, 1e7, false],
  minRaiseReadings: [1, 1e6, true],
  minClearReadings: [1, 1e6, true],
  updateDelta: [1e-6, 1, false],
  maxGenericSensors: [1, 1024, true],
};

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const describe = (v: unknown): string =>
  v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v === 'string' ? `"${v}"` : `${typeof v} ${String(v)}`;

/** Merges `over` onto `base` one level deep for each named entry (sensors, failure modes). */
function mergeByName(base: unknown, over: unknown): unknown {
  if (!isObj(base) || !isObj(over)) return over === undefined ? base : over;
  const out: Obj = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = isObj(base[k]) && isObj(v) ? { ...base[k], ...v } : v;
  return out;
}

function mergeRaw(raw: unknown, issues: ConfigIssue[]): Obj {
  const def = DEFAULT_RAW_CONFIG as unknown as Obj;
  if (raw === undefined || raw === null) return def;
  if (!isObj(raw)) {
    issues.push({ path: '$', message: `must be an object, got ${describe(raw)}` });
    return def;
  }
  const out: Obj = { ...def };
  for (const [k, v] of Object.entries(raw)) {
    if (k === 'version') out.version = v;
    else if (k === 'detector') out.detector = isObj(v) ? { ...(def.detector as Obj | undefined), ...v } : v;
    else if (k === 'assetTypes') {
      if (!isObj(v)) {
        out.assetTypes = v;
        continue;
      }
      const types: Obj = { ...(def.assetTypes as Obj) };
      for (const [name, t] of Object.entries(v)) {
        const b = types[name];
        if (isObj(b) && isObj(t)) {
          types[name] = {
            ...b,
            ...t,
            sensors: mergeByName(b.sensors, t.sensors),
            failureModes: mergeByName(b.failureModes, t.failureModes),
          };
        } else types[name] = t;
      }
      out.assetTypes = types;
    } else issues.push({ path: k, message: 'unknown key (expected version, assetTypes, detector)' });
  }
  return out;
}

function num(v: unknown, path: string, issues: ConfigIssue[], lo: number, hi: number, int = false): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    issues.push({ path, message: `must be a finite number, got ${describe(v)}` });
    return NaN;
  }
  if (v < lo || v > hi) issues.push({ path, message: `must be between ${lo} and ${hi}, got ${v}` });
  else if (int && !Number.isInteger(v)) issues.push({ path, message: `must be an integer, got ${v}` });
  return v;
}

function str(v: unknown, path: string, issues: ConfigIssue[]): string {
  if (typeof v !== 'string' || v.length === 0) {
    issues.push({ path, message: `must be a non-empty string, got ${describe(v)}` });
    return '';
  }
  return v;
}

function compileDetector(raw: unknown, issues: ConfigIssue[]): DetectorParams {
  const out = { ...DEFAULT_DETECTOR } as DetectorParams;
  if (raw === undefined) return out;
  if (!isObj(raw)) {
    issues.push({ path: 'detector', message: `must be an object, got ${describe(raw)}` });
    return out;
  }
  for (const [k, v] of Object.entries(raw)) {
    const b = DETECTOR_BOUNDS[k as keyof DetectorParams] as [number, number, boolean] | undefined;
    if (!b) {
      issues.push({ path: `detector.${k}`, message: `unknown detector parameter (known: ${Object.keys(DETECTOR_BOUNDS).join(', ')})` });
      continue;
    }
    out[k as keyof DetectorParams] = num(v, `detector.${k}`, issues, b[0], b[1], b[2]);
  }
  if (out.shiftSlowHalfLifeReadings <= out.shiftFastHalfLifeReadings)
    issues.push({ path: 'detector.shiftSlowHalfLifeReadings', message: `must be greater than detector.shiftFastHalfLifeReadings (${out.shiftFastHalfLifeReadings}), got ${out.shiftSlowHalfLifeReadings}` });
  if (out.progressFull <= out.progressStart)
    issues.push({ path: 'detector.progressFull', message: `must be greater than detector.progressStart (${out.progressStart}), got ${out.progressFull}` });
  if (out.departureDevFull <= out.departureDevStart)
    issues.push({ path: 'detector.departureDevFull', message: `must be greater than detector.departureDevStart (${out.departureDevStart}), got ${out.departureDevFull}` });
  return out;
}

function compileType(name: string, raw: unknown, det: DetectorParams, issues: ConfigIssue[]): CompiledAssetType {
  const p = `assetTypes.${name}`;
  const sensors: CompiledSensor[] = [];
  const modes: CompiledFailureMode[] = [];
  let description = '';
  if (!isObj(raw)) issues.push({ path: p, message: `must be an object, got ${describe(raw)}` });
  else {
    for (const k of Object.keys(raw))
      if (k !== 'description' && k !== 'sensors' && k !== 'failureModes')
        issues.push({ path: `${p}.${k}`, message: 'unknown key (expected description, sensors, failureModes)' });
    description = str(raw.description, `${p}.description`, issues);
    if (!isObj(raw.sensors) || Object.keys(raw.sensors).length === 0)
      issues.push({ path: `${p}.sensors`, message: `must be an object with at least one sensor, got ${describe(raw.sensors)}` });
    else {
      for (const [sn, s] of Object.entries(raw.sensors)) {
        const sp = `${p}.sensors.${sn}`;
        if (!isObj(s)) {
          issues.push({ path: sp, message: `must be an object, got ${describe(s)}` });
          continue;
        }
        for (const k of Object.keys(s))
          if (!['unit', 'min', 'max', 'samplePeriodSec'].includes(k))
            issues.push({ path: `${sp}.${k}`, message: 'unknown key (expected unit, min, max, samplePeriodSec)' });
        const unit = str(s.unit, `${sp}.unit`, issues);
        const min = num(s.min, `${sp}.min`, issues, -SENSOR_ABS_MAX, SENSOR_ABS_MAX);
        const max = num(s.max, `${sp}.max`, issues, -SENSOR_ABS_MAX, SENSOR_ABS_MAX);
        if (min >= max) issues.push({ path: `${sp}.max`, message: `must be greater than min (${min}), got ${max}` });
        const samplePeriodSec = s.samplePeriodSec === undefined ? 60 : num(s.samplePeriodSec, `${sp}.samplePeriodSec`, issues, 0.001, 1e7);
        sensors.push({ name: sn, unit, min, max, samplePeriodSec });
      }
    }
    if (raw.failureModes !== undefined && !isObj(raw.failureModes))
      issues.push({ path: `${p}.failureModes`, message: `must be an object, got ${describe(raw.failureModes)}` });
    else if (isObj(raw.failureModes)) {
      for (const [mn, m] of Object.entries(raw.failureModes)) {
        const mp = `${p}.failureModes.${mn}`;
        if (!isObj(m)) {
          issues.push({ path: mp, message: `must be an object, got ${describe(m)}` });
          continue;
        }
        for (const k of Object.keys(m))
          if (!['sensors', 'direction', 'limit', 'horizonHours', 'threshold', 'activeAbove', 'activeBelow', 'covariates', 'description'].includes(k))
            issues.push({ path: `${mp}.${k}`, message: 'unknown key (expected sensors, direction, limit, horizonHours, threshold, activeAbove, activeBelow, covariates, description)' });
        const ms: string[] = [];
        if (!Array.isArray(m.sensors) || m.sensors.length === 0)
          issues.push({ path: `${mp}.sensors`, message: `must be a non-empty array of sensor names, got ${describe(m.sensors)}` });
        else
          m.sensors.forEach((sn: unknown, i: number) => {
            const s = sensors.find((x) => x.name === sn);
            if (!s) issues.push({ path: `${mp}.sensors[${i}]`, message: `unknown sensor ${describe(sn)} (not in ${p}.sensors)` });
            else ms.push(s.name);
          });
        const direction = m.direction;
        if (direction !== 'rising' && direction !== 'falling')
          issues.push({ path: `${mp}.direction`, message: `must be "rising" or "falling", got ${describe(direction)}` });
        const limit = num(m.limit, `${mp}.limit`, issues, -SENSOR_ABS_MAX, SENSOR_ABS_MAX);
        for (const sn of ms) {
          const s = sensors.find((x) => x.name === sn)!;
          if (Number.isFinite(limit) && (limit <= s.min || limit >= s.max))
            issues.push({ path: `${mp}.limit`, message: `must lie inside the physical range of ${sn} (${s.min}, ${s.max}), got ${limit}` });
        }
        const horizonHours = num(m.horizonHours, `${mp}.horizonHours`, issues, 0.01, 1e5);
        const threshold = m.threshold === undefined ? det.raiseThreshold : num(m.threshold, `${mp}.threshold`, issues, 1e-6, 1);
        const activeAbove = m.activeAbove === undefined ? undefined : num(m.activeAbove, `${mp}.activeAbove`, issues, -SENSOR_ABS_MAX, SENSOR_ABS_MAX);
        const activeBelow = m.activeBelow === undefined ? undefined : num(m.activeBelow, `${mp}.activeBelow`, issues, -SENSOR_ABS_MAX, SENSOR_ABS_MAX);
        if (activeAbove !== undefined && activeBelow !== undefined && activeAbove >= activeBelow)
          issues.push({ path: `${mp}.activeBelow`, message: `must be greater than activeAbove (${activeAbove}), got ${activeBelow}` });
        // Covariates: sensors of this type, not the mode's own (a fit of a sensor on itself
        // would explain the degradation away), at most one (the state has room for one fit).
        const covariates: number[] = [];
        if (m.covariates !== undefined) {
          if (!Array.isArray(m.covariates) || m.covariates.length > 1)
            issues.push({ path: `${mp}.covariates`, message: `must be an array of at most 1 sensor name, got ${describe(m.covariates)}` });
          else
            m.covariates.forEach((cn: unknown, i: number) => {
              const k = sensors.findIndex((x) => x.name === cn);
              if (k < 0) issues.push({ path: `${mp}.covariates[${i}]`, message: `unknown sensor ${describe(cn)} (not in ${p}.sensors)` });
              else if (ms.includes(sensors[k]!.name))
                issues.push({ path: `${mp}.covariates[${i}]`, message: `sensor "${sensors[k]!.name}" is one of the mode's own sensors; a covariate must be another sensor` });
              else covariates.push(k);
            });
        }
        const mdesc = m.description === undefined ? mn : str(m.description, `${mp}.description`, issues);
        modes.push({
          name: mn,
          description: mdesc,
          sensors: Object.freeze(ms),
          direction: direction === 'falling' ? 'falling' : 'rising',
          limit,
          horizonHours,
          threshold,
          activeAbove,
          activeBelow,
          covariates: Object.freeze(covariates),
        });
      }
    }
  }
  return buildType(name, description, sensors, modes, false);
}

function buildType(
  name: string,
  description: string,
  sensors: CompiledSensor[],
  modes: CompiledFailureMode[],
  generic: boolean,
): CompiledAssetType {
  const sensorIndex = new Map(sensors.map((s, i) => [s.name, i] as const));
  const pairs: { mode: number; sensor: number }[] = [];
  modes.forEach((m, mi) => m.sensors.forEach((sn) => pairs.push(Object.freeze({ mode: mi, sensor: sensorIndex.get(sn)! }))));
  let covFits = 0;
  const pairCovSlots = pairs.map((pr) => (modes[pr.mode]!.covariates.length > 0 ? covFits++ : -1));
  return Object.freeze({
    name,
    description,
    sensors: Object.freeze(sensors.map((s) => Object.freeze(s))),
    sensorIndex,
    failureModes: Object.freeze(modes.map((m) => Object.freeze(m))),
    pairs: Object.freeze(pairs),
    sensorPairs: Object.freeze(sensors.map((_, i) => Object.freeze(pairs.flatMap((pr, j) => (pr.sensor === i ? [j] : []))))),
    modePairs: Object.freeze(modes.map((_, m) => Object.freeze(pairs.flatMap((pr, j) => (pr.mode === m ? [j] : []))))),
    pairCovSlots: Object.freeze(pairCovSlots),
    covFits,
    sensorNames: Object.freeze(sensors.map((s) => s.name)),
    modeNames: Object.freeze(modes.map((m) => m.name)),
    pairNames: Object.freeze(pairs.map((pr) => `${modes[pr.mode]!.name}/${sensors[pr.sensor]!.name}`)),
    generic,
  });
}

/**
 * Validates `raw` (a JSON-parsed user configuration, or undefined for none) merged over
 * DEFAULT_RAW_CONFIG and compiles it. The result is frozen.
 * @throws ConfigError listing every problem, each with its dotted path and reason.
 */
export function compileConfig(raw: unknown): CompiledConfig {
  const issues: ConfigIssue[] = [];
  const merged = mergeRaw(raw, issues);
  const version = str(merged.version, 'version', issues);
  const detector = Object.freeze(compileDetector(merged.detector, issues));
  const assetTypes = new Map<string, CompiledAssetType>();
  if (!isObj(merged.assetTypes)) issues.push({ path: 'assetTypes', message: `must be an object, got ${describe(merged.assetTypes)}` });
  else
    for (const [name, t] of Object.entries(merged.assetTypes)) {
      if (name === GENERIC_TYPE) {
        issues.push({ path: `assetTypes.${name}`, message: 'is reserved: generic sensors are discovered from the readings' });
        continue;
      }
      if (!/^[a-z][a-z0-9_]*$/.test(name))
        issues.push({ path: `assetTypes.${name}`, message: 'name must match ^[a-z][a-z0-9_]*$' });
      assetTypes.set(name, compileType(name, t, detector, issues));
    }
  assetTypes.set(GENERIC_TYPE, buildType(GENERIC_TYPE, 'Any asset: sensors discovered from the readings, scored from the data alone', [], [], true));
  if (issues.length > 0) throw new ConfigError(issues);
  return Object.freeze({ version, assetTypes, detector, derived: deriveParams(detector) });
}

/** The compiled default configuration (frozen). */
export const DEFAULT_CONFIG: CompiledConfig = compileConfig(undefined);
