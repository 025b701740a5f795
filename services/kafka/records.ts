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

/**
 * The scores an anomaly.scores record carries, in reading order: a batch's scores, or the
 * single score. `schema` is the full name the codec reported for the record.
 */
export function scoresOf(schema: string, value: unknown): ScoreRecord[] {
  if (schema === SCORE_BATCH_SCHEMA) return (value as ScoreBatchRecord).scores;
  return [value as ScoreRecord];
}
