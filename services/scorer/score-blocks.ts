/**
 * Builds the scorer's anomaly.scores records: per asset and transaction, one
 * AssetScoreBlock (schemas/anomaly.score.block.avsc) holding its scored readings in
 * columns (raw values as received, sensor scores, learning columns, findings) and the
 * maintenance events it applied. Pure: no Kafka, no clock.
 *
 * Why columns: with one record per reading, or a batch of per-reading records, every score
 * repeated the asset id, type, config version and each sensor's name; encoding that cost
 * the scorer more than scoring the reading (about 4 µs a reading). The raw values travel
 * along so that the sink writes the `reading` series from the scorer's transactional output
 * and does not consume the readings topic a second time.
 */
import type { MaintenanceEvent, Reading, Step } from '../core/types.ts';
import type { AppliedMaintenanceRecord, ScoreBlockRecord, ScoredReadingRecord } from '../kafka/records.ts';

/**
 * Readings per block at most, so that a record stays far below the broker's
 * max.message.bytes (1 MiB by default): a block reading is ≈ 150 B with 8 sensors and
 * ≈ 550 B with the 32 a generic asset may have.
 */
export const MAX_READINGS_PER_BLOCK = 500;

/** One asset's block being filled. */
class AssetBlock {
  readonly columns: string[];
  private readonly index = new Map<string, number>();
  readonly readings: ScoredReadingRecord[] = [];
  readonly maintenance: AppliedMaintenanceRecord[] = [];

  constructor(
    readonly assetId: string,
    readonly assetType: string,
    sensors: readonly string[],
  ) {
    this.columns = [...sensors];
    this.columns.forEach((c, i) => this.index.set(c, i));
  }

  private column(name: string): number {
    let i = this.index.get(name);
    if (i === undefined) {
      i = this.columns.length;
      this.columns.push(name);
      this.index.set(name, i);
    }
    return i;
  }

  addReading(reading: Reading, step: Step<unknown>): void {
    // Columns first (a reading may name a value the block has not seen), then fixed-size rows.
    for (const name in reading.values) this.column(name);
    for (const s of step.sensors) this.column(s.sensor);
    const n = this.columns.length;
    const values = new Array<number>(n).fill(Number.NaN);
    const scores = new Array<number>(n).fill(Number.NaN);
    const learning: number[] = [];
    for (const name in reading.values) values[this.index.get(name)!] = reading.values[name]!;
    for (const s of step.sensors) {
      const i = this.index.get(s.sensor)!;
      scores[i] = s.score;
      if (s.learning) learning.push(i);
    }
    this.readings.push({
      ts: reading.ts,
      score: step.score,
      health: step.health,
      values,
      scores,
      learning,
      findings: step.findings.map((f) => ({ kind: f.kind, sensor: f.sensor ?? null, detail: f.detail })),
    });
  }

  /** The block's records: its readings in slices of MAX_READINGS_PER_BLOCK, rows padded to every column. */
  records(configVersion: string): ScoreBlockRecord[] {
    const n = this.columns.length;
    for (const r of this.readings) {
      // Rows written before a later reading added a column are padded with NaN.
      while (r.values.length < n) r.values.push(Number.NaN);
      while (r.scores.length < n) r.scores.push(Number.NaN);
    }
    const base = { assetId: this.assetId, assetType: this.assetType, configVersion, columns: this.columns };
    if (this.readings.length <= MAX_READINGS_PER_BLOCK) return [{ ...base, readings: this.readings, maintenance: this.maintenance }];
    const out: ScoreBlockRecord[] = [];
    for (let i = 0; i < this.readings.length; i += MAX_READINGS_PER_BLOCK) {
      // Maintenance rides with the last slice: it was applied after those readings, or
      // between them, and the sink only needs it once.
      const last = i + MAX_READINGS_PER_BLOCK >= this.readings.length;
      out.push({ ...base, readings: this.readings.slice(i, i + MAX_READINGS_PER_BLOCK), maintenance: last ? this.maintenance : [] });
    }
    return out;
  }
}

/** The score blocks of one transaction's worth of readings, per asset in first-seen order. */
export class ScoreBlocks {
  private readonly blocks = new Map<string, AssetBlock>();

  /** @param configVersion the configuration version the readings are scored with. */
  constructor(private readonly configVersion: string) {}

  private block(assetId: string, assetType: string, sensors: readonly string[]): AssetBlock {
    let b = this.blocks.get(assetId);
    if (!b) this.blocks.set(assetId, (b = new AssetBlock(assetId, assetType, sensors)));
    return b;
  }

  /**
   * Adds a scored reading. `sensors` are the asset's sensors (the state's, in configuration
   * order): they are the block's first columns.
   */
  addReading(reading: Reading, step: Step<unknown>, sensors: readonly string[]): void {
    this.block(reading.assetId, reading.assetType, sensors).addReading(reading, step);
  }

  /** Adds a maintenance event applied to the asset's state, with who reported it. */
  addMaintenance(assetType: string, sensors: readonly string[], ev: MaintenanceEvent, source: string): void {
    this.block(ev.assetId, assetType, sensors).maintenance.push({ ts: ev.ts, failureMode: ev.failureMode ?? null, sensors: ev.sensors ?? null, source });
  }

  get size(): number {
    return this.blocks.size;
  }

  /** Every block record, asset by asset. */
  records(): ScoreBlockRecord[] {
    const out: ScoreBlockRecord[] = [];
    for (const b of this.blocks.values()) out.push(...b.records(this.configVersion));
    return out;
  }
}
