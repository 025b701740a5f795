/**
 * Unit tests of the case text: exact subject, priority mapping, description pieces (time
 * interval, probability, evidence with units, dashboard link, config version), and the
 * idempotency marker of the cleared comment.
 */
import { describe, expect, test } from 'vitest';
import { DEFAULT_CONFIG } from '../core/config.ts';
import type { PredictionEvent } from '../core/types.ts';
import {
  caseDescription,
  caseFields,
  caseSubject,
  clearedComment,
  clearedMarker,
  dashboardLink,
  evidenceTable,
  priorityFor,
  sensorUnit,
  truncateBytes,
} from './case-content.ts';

const H = 3_600_000;
const T0 = Date.UTC(2026, 10, 23, 10, 0, 0);

const event = (over: Partial<PredictionEvent> = {}): PredictionEvent => ({
  kind: 'raised',
  episodeId: 'EV-0042:battery_thermal_runaway:1795000000000',
  assetId: 'EV-0042',
  assetType: 'passenger_ev',
  failureMode: 'battery_thermal_runaway',
  episodeStartTs: T0 - 2 * H,
  ts: T0,
  severity: 'high',
  probability: 0.83456,
  horizonHours: 72,
  predictedFailureTs: T0 + 18 * H,
  predictedFailureLowTs: T0 + 14 * H,
  predictedFailureHighTs: T0 + 26 * H,
  evidence: [{ sensor: 'battery_cell_temp_c', value: 52.34, score: 0.912, trendPerHour: 0.45, limit: 60, hoursToLimit: 17.02 }],
  configVersion: '2026-11-23.1',
  ...over,
});
const opts = { dashboardUrl: 'http://127.0.0.1:8086/dash', config: DEFAULT_CONFIG };

describe('priority', () => {
  test.each([
    ['low', 'Low'],
    ['medium', 'Medium'],
    ['high', 'High'],
    ['critical', 'High'], // the standard Priority picklist has no Critical
  ] as const)('%s → %s', (sev, prio) => {
    expect(priorityFor(sev)).toBe(prio);
  });
});

describe('subject', () => {
  test('names the failure mode description, asset type, asset and hours to failure', () => {
    expect(caseSubject(event(), DEFAULT_CONFIG)).toBe(
      'Predicted Battery cell temperature rising toward the thermal cut-off on passenger_ev EV-0042 within ~18h',
    );
  });
  test('without a trend the horizon is the bound; without config the mode name is humanized', () => {
    expect(caseSubject(event({ predictedFailureTs: null, predictedFailureLowTs: null, predictedFailureHighTs: null }))).toBe(
      'Predicted battery thermal runaway on passenger_ev EV-0042 within ~72h',
    );
  });
  test('a failure less than an hour away still reads ~1h', () => {
    expect(caseSubject(event({ predictedFailureTs: T0 + 10 * 60_000 }), DEFAULT_CONFIG)).toMatch(/ within ~1h$/);
  });
});

describe('units', () => {
  test('from the configuration, else from the sensor suffix', () => {
    expect(sensorUnit('passenger_ev', 'tire_pressure_fl_kpa', DEFAULT_CONFIG)).toBe('kPa');
    expect(sensorUnit('washing_machine', 'drum_vibration_mm_s', DEFAULT_CONFIG)).toBe('mm/s');
    expect(sensorUnit('generic', 'bearing_temp_c')).toBe('degC');
    expect(sensorUnit('generic', 'flow_lpm')).toBe('L/min');
    expect(sensorUnit('generic', 'spindle_mm_s')).toBe('mm/s');
    expect(sensorUnit('generic', 'mystery')).toBe('');
  });
});

describe('description', () => {
  const d = caseDescription(event(), opts);
  test('failure mode, predicted time with interval in ISO UTC, probability, severity', () => {
    expect(d).toContain('Failure mode: Battery cell temperature rising toward the thermal cut-off [battery_thermal_runaway]');
    expect(d).toContain(
      'Predicted failure (UTC): 2026-11-24T04:00:00Z (interval 2026-11-24T00:00:00Z to 2026-11-24T12:00:00Z), about 18 h after the latest reading',
    );
    expect(d).toContain('Probability of failure within 72 h: 83.5%');
    expect(d).toContain('Severity: high (case priority High)');
    expect(d).toContain('Episode started: 2026-11-23T08:00:00Z; latest reading: 2026-11-23T10:00:00Z (raised)');
  });
  test('evidence table: latest reading, the tracked level the trend and hours come from, limit, anomaly score', () => {
    const lines = evidenceTable(event(), DEFAULT_CONFIG).split('\n');
    expect(lines[0]).toBe('Sensor              | Latest reading | Tracked level | Trend/h of the level | Limit   | Hours to limit | Anomaly score');
    // The level is the limit less the trend over the hours to it: 60 − 0.45 × 17.02.
    expect(lines[2]).toBe('battery_cell_temp_c | 52.34 degC     | 52.34 degC    | +0.45 degC/h         | 60 degC | 17             | 0.91 (rare)');
    expect(lines[3]).toBe('The trend and the hours to the limit are those of the tracked level (the sensor\'s working values smoothed),');
    const falling = evidenceTable(event({ failureMode: 'tire_pressure_loss', evidence: [{ sensor: 'tire_pressure_fl_kpa', value: 180, score: 0.5, trendPerHour: -2.5, limit: 160, hoursToLimit: null }] }), DEFAULT_CONFIG);
    expect(falling.split('\n')[2]).toBe('tire_pressure_fl_kpa | 180 kPa        | no trend toward the limit | -2.5 kPa/h           | 160 kPa | not approaching | 0.5 (rare)');
  });
  test.each([
    // The case from issue 12: 35.71 A against a 32 A limit, score 0, 17 h to the limit.
    ['a reading past the limit says so, beside the level below it', 'hvac_unit', 'compressor_overload', { sensor: 'compressor_current_a', value: 35.71, score: 0, trendPerHour: 0.07, limit: 32, hoursToLimit: 17 }, 'compressor_current_a | 35.71 A (past the limit) | 30.81 A'],
    ['a falling mode: a reading below the limit is past it', 'delivery_van', 'oil_pressure_loss', { sensor: 'oil_pressure_kpa', value: 95, score: 0.2, trendPerHour: -3, limit: 100, hoursToLimit: 10 }, 'oil_pressure_kpa | 95 kPa (past the limit) | 130 kPa'],
    ['a level at the limit', 'hvac_unit', 'compressor_overload', { sensor: 'compressor_current_a', value: 33, score: 0.1, trendPerHour: 0.2, limit: 32, hoursToLimit: 0 }, 'compressor_current_a | 33 A (past the limit) | at or past the limit'],
    ['no configuration: the side of the limit comes from the level', 'pump', 'seal_wear', { sensor: 'leak_flow_lpm', value: 12, score: 0, trendPerHour: 0.5, limit: 10, hoursToLimit: 4 }, 'leak_flow_lpm | 12 L/min (past the limit) | 8 L/min'],
  ] as const)('%s', (_, assetType, failureMode, e, row) => {
    const table = evidenceTable(event({ assetType, failureMode, evidence: [e] }), assetType === 'pump' ? undefined : DEFAULT_CONFIG);
    expect(table.split('\n')[2]!.replace(/ +\|/g, ' |')).toContain(row);
  });
  test('dashboard link, episode id and configuration version', () => {
    expect(d).toContain(`Dashboard: http://127.0.0.1:8086/dash/d/pdm-asset/?var-asset_id=EV-0042&from=${T0 - 50 * H}&to=${T0 + 24 * H}`);
    expect(d).toContain('Episode id: EV-0042:battery_thermal_runaway:1795000000000');
    expect(d).toContain('Configuration version: 2026-11-23.1');
  });
  test('no trend: says so and names the horizon', () => {
    const nd = caseDescription(event({ predictedFailureTs: null, predictedFailureLowTs: null, predictedFailureHighTs: null }), opts);
    expect(nd).toContain('Predicted failure (UTC): no trend toward the limit yet; failure possible within the 72 h horizon');
  });
});

describe('fields', () => {
  test('every Case field, Status left to the org default, Asset linked only when found', () => {
    const f = caseFields(event({ severity: 'critical' }), opts, '02i000000000001AAA');
    expect(f).toMatchObject({
      Priority: 'High',
      Origin: 'Predictive Maintenance',
      PdM_Asset_Id__c: 'EV-0042',
      PdM_Failure_Mode__c: 'battery_thermal_runaway',
      PdM_Severity__c: 'critical',
      PdM_Probability__c: 0.8346,
      PdM_Predicted_Failure__c: '2026-11-24T04:00:00.000Z',
      PdM_Predicted_Failure_Low__c: '2026-11-24T00:00:00.000Z',
      PdM_Predicted_Failure_High__c: '2026-11-24T12:00:00.000Z',
      PdM_Dashboard_Url__c: `http://127.0.0.1:8086/dash/d/pdm-asset/?var-asset_id=EV-0042&from=${T0 - 50 * H}&to=${T0 + 24 * H}`,
      AssetId: '02i000000000001AAA',
    });
    expect(f).not.toHaveProperty('Status');
    expect(caseFields(event(), opts)).not.toHaveProperty('AssetId');
  });
  test('the same event gives the same fields (replays rewrite identical values)', () => {
    expect(caseFields(event(), opts)).toEqual(caseFields(event(), opts));
  });
  test("dashboard link opens the asset's drill-down for the episode's window, keeping the base URL's path and query", () => {
    const ev = { assetId: 'a b/c', episodeStartTs: T0, ts: T0 + 5 * H };
    const window = `from=${T0 - 48 * H}&to=${T0 + 29 * H}`;
    expect(dashboardLink('http://grafana:3000/?orgId=1', ev)).toBe(`http://grafana:3000/d/pdm-asset/?orgId=1&var-asset_id=a+b%2Fc&${window}`);
    expect(dashboardLink('https://ops.example.com/grafana', ev)).toBe(`https://ops.example.com/grafana/d/pdm-asset/?var-asset_id=a+b%2Fc&${window}`);
    expect(dashboardLink('http://127.0.0.1:8080/', ev)).toBe(`http://127.0.0.1:8080/d/pdm-asset/?var-asset_id=a+b%2Fc&${window}`);
  });
});

describe('cleared comment', () => {
  test('says when the episode cleared and ends with the episode marker', () => {
    const c = clearedComment(event({ kind: 'cleared', ts: T0 + 5 * H, probability: 0.1, severity: 'low' }), DEFAULT_CONFIG);
    expect(c.startsWith('Episode cleared at 2026-11-23T15:00:00Z: asset recovered.')).toBe(true);
    expect(c.endsWith('\n[pdm-cleared:EV-0042:battery_thermal_runaway:1795000000000]')).toBe(true);
    expect(c).toContain(clearedMarker('EV-0042:battery_thermal_runaway:1795000000000'));
  });
});

describe('CaseComment byte limit', () => {
  test('truncateBytes cuts at whole characters within the byte budget', () => {
    expect(truncateBytes('abc', 3)).toBe('abc');
    expect(truncateBytes('éééé', 7)).toBe('éé…'); // 2+2 bytes, then the 3-byte ellipsis
    expect(Buffer.byteLength(truncateBytes('€'.repeat(2000), 4000), 'utf8')).toBeLessThanOrEqual(4000);
  });
  test('the cleared comment stays within 4,000 bytes whatever the text, marker kept', () => {
    const config = { ...DEFAULT_CONFIG, assetTypes: new Map(DEFAULT_CONFIG.assetTypes) };
    const type = config.assetTypes.get('passenger_ev')!;
    config.assetTypes.set('passenger_ev', { ...type, failureModes: type.failureModes.map((m) => ({ ...m, description: 'Überhitzung '.repeat(400) })) });
    const body = clearedComment(event({ kind: 'cleared' }), config);
    expect(Buffer.byteLength(body, 'utf8')).toBeLessThanOrEqual(4000);
    expect(body.endsWith(`\n${clearedMarker('EV-0042:battery_thermal_runaway:1795000000000')}`)).toBe(true);
  });
});
