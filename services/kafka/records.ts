/**
 * TypeScript shapes of the Avro records that more than one service reads or writes, as
 * avsc decodes them (timestamps are epoch ms numbers). The schemas in schemas/ are the
 * contract; these types follow them.
 */

/** anomaly.scores value (schemas/anomaly.score.avsc). */
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
