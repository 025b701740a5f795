/**
 * Re-scoring history with a candidate configuration, without Kafka and without writing: each
 * partition's records go, in offset order, through the scorer's own step (services/scorer
 * step.ts `applyChunk`), so the candidate sees exactly what the scorer saw (door checks,
 * maintenance rules, state expiry by record time) and its prediction events are the ones the
 * scorer would have committed with that configuration. Nothing leaves this object but the
 * episodes it folds.
 *
 * The span: an asset's records are scored up to its first record stamped after `toTs` (what
 * follows cannot change an event at or before `toTs`: a later reading older than the asset's
 * newest is out of order, and the scorer ignores it too), and from `warmupFromTs` (records
 * before it are skipped, so the states start there: fewer readings to score, at the price of
 * states that differ from the scorer's until they have learned again).
 */
import type { CompiledConfig } from '../core/index.ts';
import { newPartitionState, type PartitionState } from '../scorer/partition-state.ts';
import { applyChunk, type StepInput } from '../scorer/step.ts';
import { EpisodeBuilder, type Episode } from './episodes.ts';

export interface RescoreOptions {
  cfg: CompiledConfig;
  /** End of the span, epoch ms (included). */
  toTs: number;
  /** Records of a sample time before this are skipped, epoch ms; -Infinity scores all history. */
  warmupFromTs: number;
  /** The scorer's state TTL, ms (its PDM_SCORER_STATE_TTL_MS): an asset silent this long starts afresh. */
  stateTtlMs: number;
}

/** Counts of a re-scoring, for the report. */
export interface RescoreCounts {
  /** Readings scored. */
  readings: number;
  /** Maintenance events applied or checked. */
  repairs: number;
  /** Assets with at least one reading scored. */
  assets: number;
}

/**
 * Re-scores records with one configuration: feed each partition's chunks with {@link apply},
 * then read {@link episodes}. Holds one asset state per asset seen, like a scorer instance.
 */
export class Rescorer {
  private readonly parts = new Map<number, PartitionState>();
  /** Assets whose records have passed the span's end: the rest of theirs is skipped. */
  private readonly past = new Set<string>();
  private readonly scored = new Set<string>();
  private readonly builder: EpisodeBuilder;
  private readings = 0;
  private repairs = 0;

  constructor(private readonly o: RescoreOptions) {
    this.builder = new EpisodeBuilder(o.toTs);
  }

  /** Applies a chunk of one partition's records, in offset order (chunks of a partition in order too). */
  apply(partition: number, inputs: readonly StepInput[]): void {
    const kept = inputs.filter((i) => this.inSpan(i));
    if (kept.length === 0) return;
    let part = this.parts.get(partition);
    if (part === undefined) {
      part = newPartitionState(partition);
      this.parts.set(partition, part);
    }
    // `now` only stamps checkpoint ages, which a replay never writes.
    const res = applyChunk(part, kept, this.o.cfg, 0, this.o.stateTtlMs);
    this.readings += res.counts.readings;
    for (const i of kept) if (i.kind === 'repair') this.repairs++;
    for (const p of res.predictions) this.builder.add(p);
  }

  private inSpan(i: StepInput): boolean {
    if (i.kind === 'poison') return true; // changes nothing; applyChunk dead-letters it, which we drop
    const assetId = i.kind === 'reading' ? i.reading.assetId : i.event.assetId;
    const ts = i.kind === 'reading' ? i.reading.ts : i.event.ts;
    if (this.past.has(assetId)) return false;
    if (ts > this.o.toTs) {
      this.past.add(assetId);
      return false;
    }
    if (ts < this.o.warmupFromTs) return false;
    if (i.kind === 'reading') this.scored.add(assetId);
    return true;
  }

  /** The candidate's episodes up to the span's end. */
  episodes(): Episode[] {
    return this.builder.episodes();
  }

  counts(): RescoreCounts {
    return { readings: this.readings, repairs: this.repairs, assets: this.scored.size };
  }
}
