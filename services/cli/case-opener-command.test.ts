/** The case opener's tuning variables: parsed, defaults left to the service, every bad one named. */
import { describe, expect, test } from 'vitest';
import { ServiceConfigError } from '../runtime/errors.ts';
import { caseOpenerTuning } from './case-opener-command.ts';

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
    expect(run).toThrow('invalid configuration:\n  - PDM_CASE_SERVICE_MARGIN_HOURS=-2: must be a number of hours >= 0\n  - PDM_SF_FIELD_SERVICE=maybe: must be on or off');
  });
});
