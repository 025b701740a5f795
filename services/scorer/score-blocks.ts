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
 * Readings per block at most: a block reading is ≈ 150 B with 8 sensors and ≈ 550 B with the
 * 32 a generic asset may have.
 */
export const MAX_READINGS_PER_BLOCK = 500;

/**
 * Bytes of one block record at most (estimated: 8 B per value and per score, the names, the
 * findings), far below the broker's max.message.bytes (1 MiB by default) whatever the
 * readings carry: a reading may name up to RECORD_LIMITS.values sensors, each reading of an
 * asset other ones. A block that would grow past this (or past MAX_READINGS_PER_BLOCK) is
 * closed and the asset's next reading starts another.
 */
export const MAX_BLOCK_BYTES = 256 * 1024;

const NO_NAMES: readonly string[] = Object.freeze([]);

/** One asset's block being filled. */
class AssetBlock {
  readonly columns: string[];
  private readonly index = new Map<string, number>();
  readonly readings: ScoredReadingRecord[] = [];
  readonly maintenance: AppliedMaintenanceRecord[] = [];
  /** Estimated encoded size so far, bytes. */
  private bytes: number;

  constructor(
    readonly assetId: string,
    readonly assetType: string,
    sensors: readonly string[],
  ) {
    this.columns = [...sensors];
    this.columns.forEach((c, i) => this.index.set(c, i));
    this.bytes = 64 + assetId.length + assetType.length + this.columns.reduce((n, c) => n + c.length + 2, 0);
  }

  /**
   * The names the reading would add as columns (usually none), and its estimated bytes: the
   * new names, every earlier row's growth by them, its own row and findings. Worked out once
   * per reading, by plans(), and used by both fits() and add().
   */
  plan(reading: Reading, step: Step<unknown>): { added: readonly string[]; bytes: number } {
    let added: string[] | undefined;
    let addedBytes = 0;
    for (const name in reading.values) {
      if (!this.index.has(name) && !added?.includes(name)) {
        (added ??= []).push(name);
        addedBytes += name.length + 2;
      }
    }
    for (const s of step.sensors) {
      if (!this.index.has(s.sensor) && !added?.includes(s.sensor)) {
        (added ??= []).push(s.sensor);
        addedBytes += s.sensor.length + 2;
      }
    }
    let findings = 0;
    for (const f of step.findings) findings += f.kind.length + (f.sensor?.length ?? 0) + f.detail.length + 6;
    const k = added?.length ?? 0;
    return { added: added ?? NO_NAMES, bytes: addedBytes + k * 16 * this.readings.length + (this.columns.length + k) * 16 + findings + 32 };
  }

  /** True when a reading of this plan fits: an empty block always takes it. */
  fits(plan: { bytes: number }): boolean {
    if (this.readings.length === 0) return true;
    return this.readings.length < MAX_READINGS_PER_BLOCK && this.bytes + plan.bytes <= MAX_BLOCK_BYTES;
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

  addReading(reading: Reading, step: Step<unknown>, plan = this.plan(reading, step)): void {
    this.bytes += plan.bytes;
    // Columns first (a reading may name a value the block has not seen), then fixed-size rows.
    for (const name of plan.added) this.column(name);
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

  /** The block's record, rows padded to every column. */
  record(configVersion: string): ScoreBlockRecord {
    const n = this.columns.length;
    for (const r of this.readings) {
      // Rows written before a later reading added a column are padded with NaN.
      while (r.values.length < n) r.values.push(Number.NaN);
      while (r.scores.length < n) r.scores.push(Number.NaN);
    }
    return { assetId: this.assetId, assetType: this.assetType, configVersion, columns: this.columns, readings: this.readings, maintenance: this.maintenance };
  }
}

/** The score blocks of one transaction's worth of readings, per asset in first-seen order. */
export class ScoreBlocks {
  /** assetId → its blocks in order (the last one is being filled). */
  private readonly blocks = new Map<string, AssetBlock[]>();

  /** @param configVersion the configuration version the readings are scored with. */
  constructor(private readonly configVersion: string) {}

  private last(assetId: string, assetType: string, sensors: readonly string[]): AssetBlock {
    let list = this.blocks.get(assetId);
    if (!list) this.blocks.set(assetId, (list = [new AssetBlock(assetId, assetType, sensors)]));
    return list[list.length - 1]!;
  }

  /**
   * Adds a scored reading. `sensors` are the asset's sensors (the state's, in configuration
   * order): they are a block's first columns.
   */
  addReading(reading: Reading, step: Step<unknown>, sensors: readonly string[]): void {
    let b = this.last(reading.assetId, reading.assetType, sensors);
    let plan = b.plan(reading, step);
    if (!b.fits(plan)) {
      b = new AssetBlock(reading.assetId, reading.assetType, sensors);
      this.blocks.get(reading.assetId)!.push(b);
      plan = b.plan(reading, step);
    }
    b.addReading(reading, step, plan);
  }

  /** Adds a maintenance event applied to the asset's state, with who reported it (after the asset's readings so far). */
  addMaintenance(assetType: string, sensors: readonly string[], ev: MaintenanceEvent, source: string): void {
    this.last(ev.assetId, assetType, sensors).maintenance.push({ ts: ev.ts, failureMode: ev.failureMode ?? null, sensors: ev.sensors ?? null, source });
  }

  /** Assets with at least one block. */
  get size(): number {
    return this.blocks.size;
  }

  /** Every block record, asset by asset, each asset's in order. */
  records(): ScoreBlockRecord[] {
    const out: ScoreBlockRecord[] = [];
    for (const list of this.blocks.values()) for (const b of list) out.push(b.record(this.configVersion));
    return out;
  }
}
