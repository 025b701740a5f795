/**
 * The scoring core's entry points: `score` takes one reading of one asset and the asset's
 * state, and returns the anomaly scores, data-quality findings and prediction events it
 * produces; `maintain` applies a repair. Pure: no clock, no I/O, no randomness; time comes
 * inside the reading. `score` mutates the state in place (the hot path allocates no state)
 * and returns the same object in `step.state`.
 *
 * This file holds the order of the work and the data-quality rules; the rest lives by
 * concern: the state layout (layout.ts), a sensor's anomaly score (sensor-score.ts), the
 * failure trackers (tracker.ts) and the episodes and their events (episode.ts).
 */
import {
  addGenericSensor,
  adoptLayout,
  ASSET_HEALTH,
  ASSET_LAST_TS,
  ASSET_READINGS,
  ASSET_SCORE,
  covOffset,
  DEFAULT_PERIOD_MS,
  EPISODE_OPEN,
  episodeOffset,
  SENSOR_ABS_MAX,
  initEpisode,
  initSensor,
  initTracker,
  lookupType,
  SENSOR_LAST_VALID_TS,
  SENSOR_MAX,
  SENSOR_MIN,
  SENSOR_MEAN_INTERVAL_MS,
  SENSOR_READINGS,
  SENSOR_RUN_LENGTH,
  SENSOR_RUN_START_TS,
  SENSOR_RUN_VALUE,
  sensorOffset,
  TRACKER_LAST_TS,
  TRACKER_PROBABILITY,
  trackerOffset,
} from './layout.ts';
import { buildEvent, stepEpisode } from './episode.ts';
import { scoreSensor } from './sensor-score.ts';
import { updateTracker } from './tracker.ts';
import type { AssetState, CompiledConfig, MaintenanceEvent, PredictionEvent, QualityFinding, Reading, SensorScore, Step } from './types.ts';

/** The findings of a reading that has none (most): one shared, frozen empty list. */
const NO_FINDINGS: readonly QualityFinding[] = Object.freeze([]);

function rejected(state: AssetState, kind: 'out_of_order' | 'duplicate', detail: string): Step<AssetState> {
  return {
    state,
    score: 0,
    health: state.f[ASSET_HEALTH]!,
    sensors: [],
    findings: [{ kind, detail }],
    predictions: [],
    accepted: false,
  };
}

/**
 * Scores one reading of an asset and folds it into the asset's state.
 *
 * Mutates `state` in place (for speed) and returns it as `step.state`; callers that need the
 * previous state must `encodeState` it first. Pure otherwise: the same state and reading
 * always give the same step. Readings older than or as old as the last accepted one are
 * findings (`out_of_order`, `duplicate`) and leave the state unchanged. Non-finite,
 * out-of-range and stuck values are findings and are not folded into the state.
 * @throws UnknownAssetTypeError when the state's asset type is not in `cfg`.
 */
export function score(state: AssetState, reading: Reading, cfg: CompiledConfig): Step<AssetState> {
  const at = lookupType(cfg, state.assetType);
  if (!at.generic && state.sensors !== at.sensorNames) adoptLayout(state, at);
  const ts = reading.ts;
  const last = state.f[ASSET_LAST_TS]!;
  if (!Number.isFinite(ts)) return rejected(state, 'out_of_order', `timestamp ${ts} is not a finite epoch-ms time`);
  if (ts < last) return rejected(state, 'out_of_order', `timestamp ${ts} is older than the last accepted ${last}`);
  if (ts === last) return rejected(state, 'duplicate', `timestamp ${ts} was already accepted`);

  const det = cfg.detector;
  const values = reading.values;
  let findings: QualityFinding[] | undefined;
  const sensors: SensorScore[] = [];
  let known = 0;
  let assetScore = 0;
  // Generic assets discover sensors first, so the slot loop below covers them all.
  if (at.generic) {
    for (const k in values) {
      if (state.sensors.indexOf(k) >= 0) continue;
      if (state.sensors.length >= det.maxGenericSensors) {
        (findings ??= []).push({ kind: 'unknown_sensor', sensor: k, detail: `generic asset already has ${det.maxGenericSensors} sensors (detector.maxGenericSensors); "${k}" ignored` });
        continue;
      }
      addGenericSensor(state, k);
    }
  }
  const f = state.f;
  const n = state.sensors.length;
  const np = state.pairs.length;
  const nm = state.modes.length;
  for (let i = 0; i < n; i++) {
    const name = state.sensors[i]!;
    const sc = at.generic ? undefined : at.sensors[i]!;
    const o = sensorOffset(i);
    const v = values[name];
    const periodMs = sc ? sc.samplePeriodSec * 1000 : f[o + SENSOR_MEAN_INTERVAL_MS]! > 0 ? f[o + SENSOR_MEAN_INTERVAL_MS]! : DEFAULT_PERIOD_MS;
    if (v === undefined) {
      const seen = f[o + SENSOR_LAST_VALID_TS]!;
      if (ts - seen > det.staleAfterPeriods * periodMs)
        (findings ??= []).push({ kind: 'stale', sensor: name, detail: `no valid value for ${Math.round((ts - seen) / 1000)} s (expected every ${Math.round(periodMs / 1000)} s)` });
      continue;
    }
    known++;
    const min = sc ? sc.min : -SENSOR_ABS_MAX;
    const max = sc ? sc.max : SENSOR_ABS_MAX;
    if (typeof v !== 'number' || v !== v) {
      (findings ??= []).push({ kind: 'nan', sensor: name, detail: `value ${String(v)} is not a number` });
      continue;
    }
    if (v === Infinity || v === -Infinity) {
      (findings ??= []).push({ kind: 'infinite', sensor: name, detail: `value ${v} is not finite` });
      continue;
    }
    if (v < min || v > max) {
      (findings ??= []).push({
        kind: 'out_of_range',
        sensor: name,
        detail: sc
          ? `value ${v} outside physical range [${min}, ${max}] ${sc.unit}`
          : `value ${v} beyond ±${SENSOR_ABS_MAX}, the largest magnitude a generic sensor may have`,
      });
      continue;
    }
    const prev = f[o + SENSOR_RUN_VALUE]!;
    const prevTs = f[o + SENSOR_LAST_VALID_TS]!;
    f[o + SENSOR_LAST_VALID_TS] = ts;
    // Stuck: the same exact value for many readings and minutes, on a sensor that has moved.
    // Values pinned at a range end (a closed valve's 0 flow, a saturated probe) are exempt.
    if (v === f[o + SENSOR_RUN_VALUE] && v !== min && v !== max) {
      f[o + SENSOR_RUN_LENGTH] = f[o + SENSOR_RUN_LENGTH]! + 1;
      if (
        f[o + SENSOR_RUN_LENGTH]! >= det.stuckReadings &&
        ts - f[o + SENSOR_RUN_START_TS]! >= det.stuckMinutes * 60_000 &&
        f[o + SENSOR_MAX]! > f[o + SENSOR_MIN]!
      ) {
        (findings ??= []).push({ kind: 'stuck', sensor: name, detail: `value ${v} unchanged for ${f[o + SENSOR_RUN_LENGTH]} readings since ${new Date(f[o + SENSOR_RUN_START_TS]!).toISOString()}` });
        sensors.push({ sensor: name, value: v, score: 0, learning: f[o + SENSOR_READINGS]! < det.learningReadings });
        continue;
      }
    } else {
      f[o + SENSOR_RUN_VALUE] = v;
      f[o + SENSOR_RUN_LENGTH] = 1;
      f[o + SENSOR_RUN_START_TS] = ts;
    }
    const learning = f[o + SENSOR_READINGS]! < det.learningReadings;
    const s = scoreSensor(f, o, v, prev, ts, prevTs, cfg);
    if (s > assetScore) assetScore = s;
    sensors.push({ sensor: name, value: v, score: s, learning });
    if (!at.generic && np > 0) {
      const sp = at.sensorPairs[i]!;
      for (let q = 0; q < sp.length; q++) {
        const j = sp[q]!;
        const pr = at.pairs[j]!;
        const mode = at.failureModes[pr.mode]!;
        const eo = episodeOffset(n, np, pr.mode);
        const po = trackerOffset(n, j);
        const frozen = f[eo + EPISODE_OPEN] === 1 || f[po + TRACKER_PROBABILITY]! >= mode.threshold * det.clearRatio * 0.5;
        const ck = at.pairCovSlots[j]!;
        let co = -1;
        let c = NaN;
        let cRange = 0;
        if (ck >= 0) {
          // The covariate's value in this reading, if it is a valid one (findings are not fitted).
          const cs = at.sensors[mode.covariates[0]!]!;
          const cv = values[cs.name];
          co = covOffset(n, np, nm, ck);
          cRange = cs.max - cs.min;
          if (typeof cv === 'number' && cv >= cs.min && cv <= cs.max) c = cv;
        }
        updateTracker(f, po, v, ts, mode, periodMs, frozen, cfg, co, c, cRange);
      }
    }
  }
  if (!at.generic) {
    let total = 0;
    // Counting keys is the cheapest way to notice an extra one; names are looked up only then.
    for (const _k in values) total++;
    if (total > known)
      for (const k in values)
        if (!at.sensorIndex.has(k))
          (findings ??= []).push({ kind: 'unknown_sensor', sensor: k, detail: `sensor "${k}" is not configured for asset type ${at.name}` });
  }

  const predictions: PredictionEvent[] = [];
  let pmax = 0;
  for (let m = 0; m < nm; m++) {
    let p = 0;
    let fresh = false;
    const mp = at.modePairs[m]!;
    for (let q = 0; q < mp.length; q++) {
      const po = trackerOffset(n, mp[q]!);
      const pp = f[po + TRACKER_PROBABILITY]!;
      if (pp > p) p = pp;
      // A tracker stamps the time of each active value it takes.
      if (f[po + TRACKER_LAST_TS] === ts) fresh = true;
    }
    if (p > pmax) pmax = p;
    stepEpisode(state, at, m, ts, p, fresh, cfg, predictions);
  }
  const health = (1 - pmax) * (1 - 0.5 * assetScore);
  f[ASSET_LAST_TS] = ts;
  f[ASSET_READINGS] = f[ASSET_READINGS]! + 1;
  f[ASSET_HEALTH] = health;
  f[ASSET_SCORE] = assetScore;
  return { state, score: assetScore, health, sensors, findings: findings ?? NO_FINDINGS, predictions, accepted: true };
}

/**
 * Applies a maintenance event: the repaired failure mode's open episode ends (a `cleared`
 * event) and the sensors the repair invalidates (the event's `sensors`, else the mode's,
 * else all) re-learn, with every failure tracker reading them. Mutates `state` in place.
 */
export function maintain(
  state: AssetState,
  event: MaintenanceEvent,
  cfg: CompiledConfig,
): { state: AssetState; predictions: PredictionEvent[] } {
  const at = lookupType(cfg, state.assetType);
  if (!at.generic && state.sensors !== at.sensorNames) adoptLayout(state, at);
  const f = state.f;
  const n = state.sensors.length;
  const np = state.pairs.length;
  const predictions: PredictionEvent[] = [];
  const modeIdx = event.failureMode === undefined ? -1 : state.modes.indexOf(event.failureMode);
  const sensorNames =
    event.sensors ?? (modeIdx >= 0 ? at.failureModes[modeIdx]!.sensors : event.failureMode === undefined ? state.sensors : []);
  for (let m = 0; m < state.modes.length; m++) {
    if (modeIdx >= 0 ? m !== modeIdx : event.failureMode !== undefined) continue;
    const eo = episodeOffset(n, np, m);
    if (f[eo + EPISODE_OPEN] === 1) predictions.push(buildEvent('cleared', state, at, m, event.ts, 0, cfg));
    initEpisode(f, eo);
  }
  for (const name of sensorNames) {
    const i = state.sensors.indexOf(name);
    if (i < 0) continue;
    initSensor(f, sensorOffset(i));
    // The repaired sensor's trackers re-learn, and so do the trackers that use it as their
    // covariate: their fit learned how this sensor drove theirs before the repair (during its
    // degradation, too), and that no longer holds.
    at.pairs.forEach((pr, j) => {
      if (pr.sensor === i || at.failureModes[pr.mode]!.covariates[0] === i) initTracker(f, trackerOffset(n, j));
    });
  }
  return { state, predictions };
}
