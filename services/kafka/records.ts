/**
 * TypeScript shapes of the Avro records that more than one service reads or writes, as
 * avsc decodes them (timestamps are epoch ms numbers). The schemas in schemas/ are the
 * contract; these types follow them.
 */

/** An anomaly.scores record of one reading (schemas/anomaly.score.avsc). */
export interface ScoreRecord {
  assetId: string;
  assetType: string;
  ts: number;
  score: number;
  health: number;
  sensors: { sensor: string; value: number; score: number; learning: boolean }[];
  findings: { kind: string; sensor: string | null; detail: string }[];
  configVersion: string;
}

/** Full name of the maintenance record schema (schemas/maintenance.event.avsc), as the codec reports it. */
export const MAINTENANCE_SCHEMA = 'com.pdm.telemetry.MaintenanceEvent';

/** Full name of the score batch schema (schemas/anomaly.score.batch.avsc), as the codec reports it. */
export const SCORE_BATCH_SCHEMA = 'com.pdm.scoring.AnomalyScoreBatch';

/** An anomaly.scores record holding several readings' scores of one asset (schemas/anomaly.score.batch.avsc). */
export interface ScoreBatchRecord {
  assetId: string;
  scores: ScoreRecord[];
}

/** Full name of the columnar score block schema (schemas/anomaly.score.block.avsc): what the scorer writes. */
export const SCORE_BLOCK_SCHEMA = 'com.pdm.scoring.AssetScoreBlock';

/** One reading of a score block: values and scores per column of the block. */
export interface ScoredReadingRecord {
  ts: number;
  score: number;
  health: number;
  /** Raw value per column as the device sent it; NaN where it sent none. */
  values: number[];
  /** Sensor score per column; NaN where the sensor was not scored. */
  scores: number[];
  /** Columns whose sensor is still learning. */
  learning: number[];
  findings: { kind: string; sensor: string | null; detail: string }[];
}

/** A maintenance event the scorer applied, as a score block carries it. */
export interface AppliedMaintenanceRecord {
  ts: number;
  failureMode: string | null;
  sensors: string[] | null;
  source: string;
}

/** An anomaly.scores record of one asset's readings in columns (schemas/anomaly.score.block.avsc). */
export interface ScoreBlockRecord {
  assetId: string;
  assetType: string;
  configVersion: string;
  columns: string[];
  readings: ScoredReadingRecord[];
  maintenance: AppliedMaintenanceRecord[];
}

/** The per-reading score records of a block, in reading order (the shape of a single AnomalyScore). */
export function blockScores(block: ScoreBlockRecord): ScoreRecord[] {
  const { columns } = block;
  return block.readings.map((r) => {
    const sensors: ScoreRecord['sensors'] = [];
    for (let i = 0; i < columns.length; i++) {
      const score = r.scores[i]!;
      if (Number.isNaN(score)) continue;
      sensors.push({ sensor: columns[i]!, value: r.values[i]!, score, learning: r.learning.includes(i) });
    }
    return { assetId: block.assetId, assetType: block.assetType, ts: r.ts, score: r.score, health: r.health, sensors, findings: r.findings, configVersion: block.configVersion };
  });
}

/**
 * The scores an anomaly.scores record carries, in reading order: a block's or a batch's
 * scores, or the single score. `schema` is the full name the codec reported for the record.
 */
export function scoresOf(schema: string, value: unknown): ScoreRecord[] {
  if (schema === SCORE_BLOCK_SCHEMA) return blockScores(value as ScoreBlockRecord);
  if (schema === SCORE_BATCH_SCHEMA) return (value as ScoreBatchRecord).scores;
  return [value as ScoreRecord];
}
