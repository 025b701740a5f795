/** The tuning settings: parsed, defaults left to the service, every bad one named at once. */
import { describe, expect, test } from 'vitest';
import { ServiceConfigError } from '../runtime/errors.ts';
import { caseOpenerTuning, runtimeSettings, scorerTuning } from './tuning.ts';

describe('caseOpenerTuning', () => {
  test('unset variables leave the service defaults', () => {
    expect(caseOpenerTuning({})).toEqual({});
  });
  test('reads margin, minimum window and Field Service', () => {
    expect(caseOpenerTuning({ PDM_CASE_SERVICE_MARGIN_HOURS: '6', PDM_CASE_MIN_SERVICE_WINDOW_HOURS: '0.5', PDM_SF_FIELD_SERVICE: 'ON' })).toEqual({
      serviceMarginHours: 6, minimumServiceWindowHours: 0.5, fieldService: true,
    });
    expect(caseOpenerTuning({ PDM_SF_FIELD_SERVICE: 'off' })).toEqual({ fieldService: false });
  });
  test('names every bad value at once', () => {
    const run = () => caseOpenerTuning({ PDM_CASE_SERVICE_MARGIN_HOURS: '-2', PDM_SF_FIELD_SERVICE: 'maybe' });
    expect(run).toThrow(ServiceConfigError);
    expect(run).toThrow('invalid configuration:\n  - PDM_CASE_SERVICE_MARGIN_HOURS=-2: must be a number >= 0 (hours)\n  - PDM_SF_FIELD_SERVICE=maybe: must be on or off');
  });
});

describe('scorerTuning', () => {
  test('reads what is set, checks integers and minimums', () => {
    expect(scorerTuning({})).toEqual({});
    expect(scorerTuning({ PDM_SCORER_CHECKPOINT_MS: '2500', PDM_SCORER_STATE_TTL_MS: '86400000' })).toEqual({ checkpointIntervalMs: 2500, stateTtlMs: 86_400_000 });
    expect(() => scorerTuning({ PDM_SCORER_CHECKPOINT_READINGS: '1.5', PDM_SCORER_STATE_TTL_MS: '10' })).toThrow(
      'invalid configuration:\n  - PDM_SCORER_CHECKPOINT_READINGS=1.5: must be an integer >= 1 (readings)\n  - PDM_SCORER_STATE_TTL_MS=10: must be an integer >= 1000 (ms)',
    );
  });
});

describe('runtimeSettings', () => {
  test('defaults, and every bad health or log setting named', () => {
    expect(runtimeSettings({})).toEqual({ unhealthyAfterMs: 60_000, metricsHost: '127.0.0.1' });
    expect(runtimeSettings({ PDM_UNHEALTHY_AFTER_MS: '5000', PDM_METRICS_HOST: '0.0.0.0', PDM_LOG_LEVEL: 'debug', PDM_LOG_FORMAT: 'json' })).toEqual({ unhealthyAfterMs: 5000, metricsHost: '0.0.0.0' });
    const run = () => runtimeSettings({ PDM_UNHEALTHY_AFTER_MS: 'soon', PDM_LOG_LEVEL: 'verbose', PDM_LOG_FORMAT: 'xml' });
    expect(run).toThrow(/PDM_LOG_LEVEL=verbose: must be one of debug, info, warn, error, silent\n {2}- PDM_LOG_FORMAT=xml: must be one of text, json\n {2}- PDM_UNHEALTHY_AFTER_MS=soon/);
  });
});
