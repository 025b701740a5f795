/**
 * The stand-in's SOQL subset: what it accepts, what it rejects with which Salesforce error
 * code, and how it filters and orders (case-insensitive text, 15/18-character ids, nulls).
 */
import { describe, expect, it } from 'vitest';
import { SoqlError, parseSoql, runQuery, type StoredRecord } from './soql.ts';

const cases: StoredRecord[] = [
  { Id: '5000R0000000001QAA', Subject: 'Pump A', Priority: 'High', PdM_Probability__c: 0.9, CreatedDate: '2024-01-02T00:00:00.000+0000', IsClosed: false, AssetId: null },
  { Id: '5000R0000000002QAA', Subject: 'pump b', Priority: 'Low', PdM_Probability__c: 0.2, CreatedDate: '2024-01-01T00:00:00.000+0000', IsClosed: true, AssetId: '02i0R0000000003QAA' },
  { Id: '5000R0000000003QAA', Subject: 'Fan', Priority: null, PdM_Probability__c: null, CreatedDate: '2024-01-03T00:00:00.000+0000', IsClosed: false, AssetId: null },
];
const ids = (soql: string): string[] => runQuery(parseSoql(soql), cases).map((r) => String(r.Id).slice(14, 15));

function soqlError(soql: string): SoqlError {
  try {
    parseSoql(soql);
  } catch (err) {
    if (err instanceof SoqlError) return err;
    throw err;
  }
  throw new Error(`expected a SoqlError for ${soql}`);
}

describe('parseSoql + runQuery', () => {
  it.each([
    ["SELECT Id FROM Case WHERE Subject = 'PUMP A'", ['1']],
    ["SELECT Id FROM Case WHERE Subject LIKE 'pump%' ORDER BY Subject DESC", ['2', '1']],
    ["SELECT Id FROM Case WHERE Priority IN ('High','Low') AND PdM_Probability__c > 0.5", ['1']],
    ["SELECT Id FROM Case WHERE Priority = null OR IsClosed = true ORDER BY CreatedDate", ['2', '3']],
    ["SELECT Id FROM Case WHERE Priority != 'High' ORDER BY Priority ASC NULLS LAST", ['2', '3']],
    ['SELECT Id FROM Case WHERE CreatedDate >= 2024-01-02T00:00:00Z ORDER BY CreatedDate DESC LIMIT 1', ['3']],
    ["SELECT Id FROM Case WHERE AssetId = '02i0R0000000003'", ['2']],
    ["SELECT Id FROM Case WHERE NOT (Subject LIKE 'pump%') ", ['3']],
    ["SELECT Id FROM Case WHERE (Priority = 'High' OR Priority = 'Low') AND IsClosed = false", ['1']],
    ['SELECT Id FROM Case ORDER BY PdM_Probability__c DESC LIMIT 2 OFFSET 1', ['2', '3']],
    ["select id from case where subject = 'Fan'", ['3']],
  ])('%s', (soql, want) => {
    expect(ids(soql)).toEqual(want);
  });

  it('counts with COUNT()', () => {
    const q = parseSoql("SELECT COUNT() FROM Case WHERE Subject LIKE '%p%'");
    expect(q.count).toBe(true);
    expect(runQuery(q, cases)).toHaveLength(2);
  });

  it.each([
    ['SELECT FROM Case', 'MALFORMED_QUERY', 'unexpected token: FROM'],
    ["SELECT Id FROM Case WHERE Subject = 'a' AND Priority = 'b' OR IsClosed = true", 'MALFORMED_QUERY', 'unexpected token: OR'],
    ['SELECT Id FROM Case WHERE', 'MALFORMED_QUERY', 'unexpected token: <EOF>'],
    ['SELECT Id, Nope__c FROM Case', 'INVALID_FIELD', "No such column 'Nope__c' on entity 'Case'"],
    ['SELECT Id FROM Widget__c', 'INVALID_TYPE', "sObject type 'Widget__c' is not supported"],
    ['SELECT Id FROM Case WHERE Subject = 5', 'INVALID_FIELD', "value of filter criterion for field 'Subject' must be of type string and should be enclosed in quotes"],
    ["SELECT Id FROM Case WHERE CreatedDate > '2024-01-01'", 'INVALID_FIELD', "must be of type dateTime and should not be enclosed in quotes"],
    ["SELECT Id FROM Case WHERE Id = 'abc'", 'INVALID_QUERY_FILTER_OPERATOR', 'invalid ID field: abc'],
  ])('%s → %s', (soql, code, text) => {
    const err = soqlError(soql);
    expect(err.errorCode).toBe(code);
    expect(err.message).toContain(text);
    expect(err.message).toMatch(/ERROR at Row:1:Column:\d+/);
  });
});
