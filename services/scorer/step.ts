/**
 * The scorer's per-record step, without Kafka: a chunk of one partition's decoded records
 * (readings, maintenance events, records already found to be poison) is applied in offset
 * order to the partition's asset states through the core, and gives the outputs to commit:
 * score blocks, prediction events, dead letters and counts. Deterministic given its inputs
 * (time comes in as `now`), so the rules below are unit-tested on their own (step.test.ts):
 *
 * - A reading of an unknown asset type, or an invalid record, is a dead letter; a reading
 *   with invalid values (NaN, ±Infinity, out of range) is scored on its valid sensors AND
 *   dead-lettered, so ops see the device's fault.
 * - A maintenance event resets the asset's state for the repaired mode (a `cleared`
 *   prediction when an episode was open); one for a failure mode or sensor the asset's type
 *   does not have is a dead letter; one for an asset with no state yet changes nothing.
 * - During a replay (below `replayUntil`) records change the states exactly as the first
 *   time but produce nothing; records a restored state already holds are skipped.
 */
import { maintain, newState, score, UnknownAssetTypeError } from '../core/index.ts';
import type { CompiledConfig, MaintenanceEvent, PredictionEvent, Reading } from '../core/index.ts';
import type { SourceRecord } from '../kafka/dlq.ts';
import { PoisonRecordError } from '../runtime/errors.ts';
import { markDirty } from './checkpoints.ts';
import { alreadyHeld, dropState, holdsState, isReplaying, stateOf, type PartitionState } from './partition-state.ts';
import { maintenanceProblem } from './records.ts';
import { ScoreBlocks } from './score-blocks.ts';

/** Asset score from which a reading counts as an anomaly in the metrics (not a detection threshold). */
export const ANOMALY_SCORE = 0.5;

/** Findings that make a reading's bytes worth a dead letter (the rest are ordinary data-quality events). */
const DLQ_FINDINGS = new Set(['nan', 'infinite', 'out_of_range']);

/** One decoded record of the readings topic, with where it came from and its Kafka timestamp (epoch ms). */
export type StepInput = { offset: number; src: SourceRecord; recordTs: number } & (
  | { kind: 'reading'; reading: Reading }
  | { kind: 'repair'; event: MaintenanceEvent; source: string }
  | { kind: 'poison'; error: PoisonRecordError }
);

export interface ChunkCounts {
  /** Readings scored for output. */
  readings: number;
  /** Readings folded into the states during a replay (no output). */
  replayed: number;
  /** Readings whose asset score reached ANOMALY_SCORE. */
  anomalies: number;
  /** Prediction events by kind. */
  predictions: Map<string, number>;
  /** Data-quality findings by kind. */
  findings: Map<string, number>;
  /** Maintenance events by outcome (applied; no_state). */
  maintenance: Map<string, number>;
  /** States found expired (silent past the TTL) when their asset reported again. */
  expired: number;
}

export interface ChunkResult {
  blocks: ScoreBlocks;
  predictions: PredictionEvent[];
  deadLetters: { src: SourceRecord; error: PoisonRecordError }[];
  counts: ChunkCounts;
}

function bump(counts: Map<string, number>, key: string): void {
  counts.set(key, (counts.get(key) ?? 0) + 1);
}

/** Where a record is, for error messages: `topic[partition]@offset`. */
const at = (src: SourceRecord) => `${src.topic}[${src.partition}]@${src.offset}`;

/** A chunk's outputs before its first record: what applyChunk adds to. */
export function emptyChunkResult(cfg: CompiledConfig): ChunkResult {
  return {
    blocks: new ScoreBlocks(cfg.version),
    predictions: [],
    deadLetters: [],
    counts: { readings: 0, replayed: 0, anomalies: 0, predictions: new Map(), findings: new Map(), maintenance: new Map(), expired: 0 },
  };
}

/**
 * Applies a chunk of one partition's records, in offset order, to its states (mutating
 * `part.states` and `part.dirty`) and returns what to commit. `now` stamps the assets that
 * became dirty (checkpoint ages). `out`: outputs to add to, when one chunk is applied in
 * slices (the next slice's records follow this one's in offset order).
 */
export function applyChunk(part: PartitionState, inputs: readonly StepInput[], cfg: CompiledConfig, now: number, stateTtlMs = Infinity, out: ChunkResult = emptyChunkResult(cfg)): ChunkResult {
  const { counts } = out;
  /** The asset's state, unless it expired (silent past the TTL by record time): then it is dropped. */
  const live = (assetId: string, recordTs: number) => {
    const seen = part.lastSeen.get(assetId);
    if (seen !== undefined && recordTs - seen > stateTtlMs && holdsState(part, assetId)) {
      dropState(part, assetId);
      part.lastSeen.delete(assetId);
      counts.expired++;
      return undefined;
    }
    return stateOf(part, assetId, cfg);
  };
  const seen = (assetId: string, recordTs: number) => {
    if (recordTs > (part.lastSeen.get(assetId) ?? -Infinity)) part.lastSeen.set(assetId, recordTs);
  };
  for (const input of inputs) {
    const { offset, src, recordTs } = input;
    if (recordTs > part.clockMs) part.clockMs = recordTs;
    const replaying = isReplaying(part, offset);
    if (input.kind === 'poison') {
      if (!replaying) out.deadLetters.push({ src, error: new PoisonRecordError(`${at(src)}: decode record`, input.error.reason, { cause: input.error }) });
      continue;
    }
    if (input.kind === 'repair') {
      const repair = input.event;
      // Ordered with the asset's readings (same key, same partition); replayed like them.
      if (replaying && alreadyHeld(part, repair.assetId, offset)) continue;
      const state = live(repair.assetId, recordTs);
      if (state === undefined) {
        // Nothing learned yet about this asset: nothing to reset.
        if (!replaying) bump(counts.maintenance, 'no_state');
        continue;
      }
      const problem = maintenanceProblem(state, repair);
      if (problem) {
        if (!replaying) out.deadLetters.push({ src, error: new PoisonRecordError(`${at(src)}: ${problem}`, 'invalid_record') });
        continue;
      }
      const res = maintain(state, repair, cfg);
      part.states.set(repair.assetId, res.state);
      seen(repair.assetId, recordTs);
      markDirty(part.dirty, repair.assetId, offset, now);
      if (replaying) continue;
      bump(counts.maintenance, 'applied');
      out.blocks.addMaintenance(res.state.assetType, res.state.sensors, repair, input.source);
      for (const p of res.predictions) {
        out.predictions.push(p);
        bump(counts.predictions, p.kind);
      }
      continue;
    }
    const reading = input.reading;
    if (replaying && alreadyHeld(part, reading.assetId, offset)) continue;
    let state = live(reading.assetId, recordTs);
    if (state === undefined) {
      try {
        state = newState(reading.assetId, reading.assetType, cfg);
      } catch (err) {
        if (!(err instanceof UnknownAssetTypeError)) throw err;
        if (!replaying) out.deadLetters.push({ src, error: new PoisonRecordError(`${at(src)}: ${err.message}`, 'unknown_asset_type', { cause: err }) });
        continue;
      }
      part.states.set(reading.assetId, state);
    }
    const step = score(state, reading, cfg);
    part.states.set(reading.assetId, step.state);
    seen(reading.assetId, recordTs);
    markDirty(part.dirty, reading.assetId, offset, now);
    if (replaying) {
      counts.replayed++;
      continue;
    }
    counts.readings++;
    if (step.score >= ANOMALY_SCORE) counts.anomalies++;
    out.blocks.addReading(reading, step, step.state.sensors);
    for (const p of step.predictions) {
      out.predictions.push(p);
      bump(counts.predictions, p.kind);
    }
    for (const f of step.findings) bump(counts.findings, f.kind);
    const invalid = step.findings.filter((f) => DLQ_FINDINGS.has(f.kind));
    if (invalid.length > 0) {
      // The valid sensors were scored; the record's bytes also go to the DLQ so ops see the device's fault.
      const why = invalid.map((f) => (f.sensor ? `${f.sensor}: ${f.detail}` : f.detail)).join('; ');
      out.deadLetters.push({ src, error: new PoisonRecordError(`${at(src)}: ${why}`, 'invalid_value') });
    }
  }
  return out;
}
