/**
 * Table-driven tests of the record → InfluxDB point mapping (points.ts): each case is a
 * decoded record and the exact line protocol it must produce (tags and fields sorted by the
 * client, timestamps in epoch ms), or the exact poison error it must raise.
 */
import { describe, expect, it } from 'vitest';
import type { ScoreBlockRecord, ScoredReadingRecord } from '../kafka/records.ts';
import { PoisonRecordError } from '../runtime/errors.ts';
import { MEASUREMENTS, measurementOf, recordLines, type PredictionRecord, type RecordKind, type ScoreRecord } from './points.ts';

const TS = 1_700_000_000_123;

const score = (over: Partial<ScoreRecord>): ScoreRecord => ({
  assetId: 'ev-1',
  assetType: 'passenger_ev',
  ts: TS,
  score: 0.25,
  health: 0.75,
  sensors: [],
  findings: [],
  configVersion: 'v1',
  ...over,
});

const row = (over: Partial<ScoredReadingRecord>): ScoredReadingRecord => ({
  ts: TS,
  score: 0.25,
  health: 0.75,
  values: [],
  scores: [],
  learning: [],
  findings: [],
  ...over,
});

const block = (over: Partial<ScoreBlockRecord>): ScoreBlockRecord => ({
  assetId: 'ev-1',
  assetType: 'passenger_ev',
  configVersion: 'v1',
  columns: ['battery_temp_c', 'speed_kmh', 'soc_pct'],
  readings: [],
  maintenance: [],
  ...over,
});

const prediction = (over: Partial<PredictionRecord>): PredictionRecord => ({
  kind: 'raised',
  episodeId: 'ep-abc',
  assetId: 'ev-1',
  assetType: 'passenger_ev',
  failureMode: 'battery_thermal_runaway',
  episodeStartTs: TS - 60_000,
  ts: TS,
  severity: 'high',
  probability: 0.8,
  horizonHours: 48,
  predictedFailureTs: TS + 5_400_000,
  predictedFailureLowTs: TS + 3_600_000,
  predictedFailureHighTs: TS + 7_200_000,
  configVersion: 'v1',
  ...over,
});

interface Case {
  name: string;
  kind: RecordKind;
  record: unknown;
  lines: string[];
}

const CASES: Case[] = [
  {
    name: 'scoreBatch: the points of each score, in order',
    kind: 'scoreBatch',
    record: { assetId: 'ev-1', scores: [score({}), score({ ts: TS + 1_000, score: 0.5, health: 0.5 })] },
    lines: [
      `anomaly_score,asset_id=ev-1,asset_type=passenger_ev findings=0i,health=0.75,score=0.25 ${TS}`,
      `anomaly_score,asset_id=ev-1,asset_type=passenger_ev findings=0i,health=0.5,score=0.5 ${TS + 1_000}`,
    ],
  },
  {
    name: 'scoreBlock: per reading the raw values and the scores, fields sorted; NaN and ±Infinity left out',
    kind: 'scoreBlock',
    record: block({
      readings: [
        row({ values: [31.5, 88, 0], scores: [0.5, 0, Number.NaN], learning: [1] }),
        row({ ts: TS + 1_000, score: 0.75, health: 0.5, values: [Number.NaN, 81.25, Infinity], scores: [Number.NaN, 0.25, Number.NaN] }),
      ],
    }),
    lines: [
      `reading,asset_id=ev-1,asset_type=passenger_ev battery_temp_c=31.5,soc_pct=0,speed_kmh=88 ${TS}`,
      `anomaly_score,asset_id=ev-1,asset_type=passenger_ev findings=0i,health=0.75,score=0.25,score_battery_temp_c=0.5,score_speed_kmh=0 ${TS}`,
      `reading,asset_id=ev-1,asset_type=passenger_ev speed_kmh=81.25 ${TS + 1_000}`,
      `anomaly_score,asset_id=ev-1,asset_type=passenger_ev findings=0i,health=0.5,score=0.75,score_speed_kmh=0.25 ${TS + 1_000}`,
    ],
  },
  {
    name: 'scoreBlock: a reading with no finite value gives no reading point, its score still does; findings become data_quality',
    kind: 'scoreBlock',
    record: block({
      readings: [
        row({
          values: [Number.NaN, Number.NaN, Number.NaN],
          scores: [Number.NaN, Number.NaN, Number.NaN],
          findings: [
            { kind: 'nan', sensor: 'battery_temp_c', detail: 'NaN' },
            { kind: 'nan', sensor: 'battery_temp_c', detail: 'NaN again' },
            { kind: 'stale', sensor: null, detail: 'quiet' },
          ],
        }),
      ],
    }),
    lines: [
      `anomaly_score,asset_id=ev-1,asset_type=passenger_ev findings=3i,health=0.75,score=0.25 ${TS}`,
      `data_quality,asset_id=ev-1,asset_type=passenger_ev,kind=nan,sensor=battery_temp_c count=2i ${TS}`,
      `data_quality,asset_id=ev-1,asset_type=passenger_ev,kind=stale,sensor=(reading) count=1i ${TS}`,
    ],
  },
  {
    name: 'scoreBlock: spaces, commas and equals signs in names are escaped',
    kind: 'scoreBlock',
    record: block({ assetId: 'fridge 7,b=c', assetType: 'refrigerator', columns: ['door open=x'], readings: [row({ ts: 0, values: [-2.5], scores: [Number.NaN] })] }),
    lines: [
      'reading,asset_id=fridge\\ 7\\,b\\=c,asset_type=refrigerator door\\ open\\=x=-2.5 0',
      'anomaly_score,asset_id=fridge\\ 7\\,b\\=c,asset_type=refrigerator findings=0i,health=0.75,score=0.25 0',
    ],
  },
  {
    name: 'scoreBlock: an applied repair is a maintenance point, the mode as a tag, source and sensors as fields',
    kind: 'scoreBlock',
    record: block({
      assetId: 'van-3',
      assetType: 'delivery_van',
      readings: [],
      maintenance: [
        { ts: TS, failureMode: 'brake_pad_wear', sensors: ['brake_pad_mm', 'brake_temp_c'], source: 'field-service' },
        { ts: TS + 1, failureMode: null, sensors: null, source: 'simulator' },
      ],
    }),
    lines: [
      `maintenance,asset_id=van-3,failure_mode=brake_pad_wear sensors="brake_pad_mm,brake_temp_c",source="field-service" ${TS}`,
      `maintenance,asset_id=van-3,failure_mode=(all) sensors="",source="simulator" ${TS + 1}`,
    ],
  },
  {
    name: 'score: score, health, score_<sensor>, findings count; no findings gives no data_quality',
    kind: 'score',
    record: score({
      sensors: [
        { sensor: 'battery_temp_c', value: 31.5, score: 0.5, learning: false },
        { sensor: 'speed_kmh', value: 88, score: 0, learning: true },
      ],
    }),
    lines: [`anomaly_score,asset_id=ev-1,asset_type=passenger_ev findings=0i,health=0.75,score=0.25,score_battery_temp_c=0.5,score_speed_kmh=0 ${TS}`],
  },
  {
    name: 'score: findings become data_quality points counted per (sensor, kind); null sensor is "(reading)"',
    kind: 'score',
    record: score({
      score: Number.NaN,
      sensors: [{ sensor: 'a_c', value: Number.NaN, score: Number.NaN, learning: false }],
      findings: [
        { kind: 'nan', sensor: 'a_c', detail: 'NaN' },
        { kind: 'out_of_range', sensor: 'b_c', detail: '912 > 80' },
        { kind: 'nan', sensor: 'a_c', detail: 'NaN again' },
        { kind: 'out_of_order', sensor: null, detail: 'ts went back' },
      ],
    }),
    lines: [
      `anomaly_score,asset_id=ev-1,asset_type=passenger_ev findings=4i,health=0.75 ${TS}`,
      `data_quality,asset_id=ev-1,asset_type=passenger_ev,kind=nan,sensor=a_c count=2i ${TS}`,
      `data_quality,asset_id=ev-1,asset_type=passenger_ev,kind=out_of_range,sensor=b_c count=1i ${TS}`,
      `data_quality,asset_id=ev-1,asset_type=passenger_ev,kind=out_of_order,sensor=(reading) count=1i ${TS}`,
    ],
  },
  {
    name: 'prediction: low-cardinality tags; episode_id is a string field; times and hours_to_failure',
    kind: 'prediction',
    record: prediction({}),
    lines: [
      'prediction,asset_id=ev-1,asset_type=passenger_ev,failure_mode=battery_thermal_runaway,kind=raised,severity=high ' +
        `episode_id="ep-abc",episode_start_ts=${TS - 60_000}i,horizon_hours=48,hours_to_failure=1.5,` +
        `predicted_failure_high_ts=${TS + 7_200_000}i,predicted_failure_low_ts=${TS + 3_600_000}i,predicted_failure_ts=${TS + 5_400_000}i,probability=0.8 ${TS}`,
    ],
  },
  {
    name: 'prediction: without a trend there is no predicted time and no hours_to_failure',
    kind: 'prediction',
    record: prediction({ kind: 'cleared', severity: 'low', probability: 0.1, predictedFailureTs: null, predictedFailureLowTs: null, predictedFailureHighTs: null }),
    lines: [
      'prediction,asset_id=ev-1,asset_type=passenger_ev,failure_mode=battery_thermal_runaway,kind=cleared,severity=low ' +
        `episode_id="ep-abc",episode_start_ts=${TS - 60_000}i,horizon_hours=48,probability=0.1 ${TS}`,
    ],
  },
  {
    name: 'prediction: an overdue failure gives a negative hours_to_failure',
    kind: 'prediction',
    record: prediction({ predictedFailureTs: TS - 1_800_000, predictedFailureLowTs: null, predictedFailureHighTs: null }),
    lines: [
      'prediction,asset_id=ev-1,asset_type=passenger_ev,failure_mode=battery_thermal_runaway,kind=raised,severity=high ' +
        `episode_id="ep-abc",episode_start_ts=${TS - 60_000}i,horizon_hours=48,hours_to_failure=-0.5,predicted_failure_ts=${TS - 1_800_000}i,probability=0.8 ${TS}`,
    ],
  },
];

interface BadCase {
  name: string;
  kind: RecordKind;
  record: unknown;
  reason: string;
  message: string;
}

const BAD: BadCase[] = [
  {
    name: 'a score batch holding another asset\'s score',
    kind: 'scoreBatch',
    record: { assetId: 'ev-1', scores: [score({}), score({ assetId: 'ev-2' })] },
    reason: 'invalid_record',
    message: 'scoreBatch of ev-1 holds at [1] a score of ev-2',
  },
  {
    name: 'a score batch with a broken score',
    kind: 'scoreBatch',
    record: { assetId: 'ev-1', scores: [{ assetId: 'ev-1' }] },
    reason: 'invalid_record',
    message: 'not a score record: assetType is not a string, ts is not a number, score is not a number, health is not a number, sensors is not a object, findings is not a object',
  },
  {
    name: 'a single score record where a block is expected',
    kind: 'scoreBlock',
    record: score({}),
    reason: 'invalid_record',
    message: 'not a scoreBlock record: columns is not a object, readings is not a object, maintenance is not a object',
  },
  {
    name: 'a block whose reading has fewer values than columns',
    kind: 'scoreBlock',
    record: block({ readings: [row({ values: [1], scores: [0, 0, 0] })] }),
    reason: 'invalid_record',
    message: 'score block of ev-1: reading [0] has 1 values and 3 scores for 3 columns',
  },
  {
    name: 'a block whose readings are of the wrong shape',
    kind: 'scoreBlock',
    record: block({ readings: [null as unknown as ScoredReadingRecord] }),
    reason: 'invalid_record',
    message: "not a valid scoreBlock record: Cannot read properties of null (reading 'values')",
  },
  {
    name: 'a reading record on the predictions topic',
    kind: 'prediction',
    record: { assetId: 'ev-1', assetType: 'x', ts: TS, values: {} },
    reason: 'invalid_record',
    message:
      'not a prediction record: kind is not a string, episodeId is not a string, failureMode is not a string, episodeStartTs is not a number, severity is not a string, probability is not a number',
  },
  {
    name: 'an empty asset id (empty tag values cannot be written)',
    kind: 'scoreBlock',
    record: block({ assetId: '' }),
    reason: 'invalid_value',
    message: 'tag asset_id="" cannot be written to InfluxDB (empty or ending with a backslash)',
  },
  {
    name: 'an asset type ending with a backslash',
    kind: 'score',
    record: score({ assetType: 'bad\\' }),
    reason: 'invalid_value',
    message: 'tag asset_type="bad\\\\" cannot be written to InfluxDB (empty or ending with a backslash)',
  },
  {
    name: 'a timestamp beyond year 2262',
    kind: 'scoreBlock',
    record: block({ readings: [row({ ts: 9_300_000_000_000, values: [1, 2, 3], scores: [0, 0, 0] })] }),
    reason: 'invalid_value',
    message: 'timestamp 9300000000000 ms is outside the range InfluxDB can store',
  },
];

describe("recordLines", () => {
  it.each(CASES)('$name', ({ kind, record, lines }) => {
    expect(recordLines(kind, record)).toEqual(lines);
  });

  it.each(BAD)('refuses $name as poison ($reason)', ({ kind, record, reason, message }) => {
    let err: unknown;
    try {
      recordLines(kind, record);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PoisonRecordError);
    expect((err as PoisonRecordError).reason).toBe(reason);
    expect((err as PoisonRecordError).message).toBe(message);
  });

  it('maps a replayed record to identical lines (the replay overwrites its own point)', () => {
    const rec = prediction({});
    expect(recordLines("prediction", rec)).toEqual(recordLines("prediction", structuredClone(rec)));
  });

  it('tells the measurement of every line it writes', () => {
    for (const { kind, record } of CASES) {
      for (const line of recordLines(kind, record)) expect(measurementOf(line)).toBe(line.slice(0, line.indexOf(',')));
    }
    expect(new Set(Object.values(MEASUREMENTS).map(measurementOf))).toEqual(new Set(Object.values(MEASUREMENTS)));
  });
});
