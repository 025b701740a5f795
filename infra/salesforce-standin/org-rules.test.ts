/**
 * Unit tests of the stand-in's org model: access derived from a permission set (objects,
 * field-level security, parent-controlled and always-readable objects), validation-rule
 * formulas it compiles or refuses, injected org rules, platform rules and the Assignment Rule
 * header.
 */
import { describe, expect, it } from 'vitest';
import { accessFromGrants, parsePermissionSet, unionGrants } from './access.ts';
import { autoAssign, compileFormula, orgRuleProblem, OrgRules, platformErrors } from './org-rules.ts';
import { SOBJECTS, findField } from './schema.ts';

const o = (name: string) => SOBJECTS[name]!;
const f = (obj: string, field: string) => findField(o(obj), field)!;

const XML = `<PermissionSet>
  <fieldPermissions><editable>true</editable><field>Case.Subject</field><readable>true</readable></fieldPermissions>
  <fieldPermissions><editable>false</editable><field>Asset.SerialNumber</field><readable>true</readable></fieldPermissions>
  <objectPermissions><allowCreate>true</allowCreate><allowEdit>true</allowEdit><allowRead>true</allowRead><object>Case</object></objectPermissions>
  <objectPermissions><allowCreate>false</allowCreate><allowEdit>false</allowEdit><allowRead>true</allowRead><object>Asset</object></objectPermissions>
</PermissionSet>`;

describe('access from a permission set', () => {
  const a = accessFromGrants(parsePermissionSet(XML));
  it('grants objects as listed; the rest is invisible', () => {
    expect([a.canRead(o('Case')), a.canCreate(o('Case')), a.canEdit(o('Case'))]).toEqual([true, true, true]);
    expect([a.canRead(o('Asset')), a.canCreate(o('Asset')), a.canEdit(o('Asset'))]).toEqual([true, false, false]);
    expect(a.canRead(o('Account'))).toBe(false);
  });
  it('field-level security: listed fields as granted, exempt fields follow the object, read-only never editable', () => {
    expect([a.canReadField(o('Case'), f('Case', 'Subject')), a.canEditField(o('Case'), f('Case', 'Subject'))]).toEqual([true, true]);
    expect([a.canReadField(o('Case'), f('Case', 'Priority')), a.canEditField(o('Case'), f('Case', 'Priority'))]).toEqual([false, false]);
    expect([a.canReadField(o('Case'), f('Case', 'Status')), a.canEditField(o('Case'), f('Case', 'Status'))]).toEqual([true, true]);
    expect(a.canEditField(o('Case'), f('Case', 'CaseNumber'))).toBe(false);
    expect([a.canReadField(o('Asset'), f('Asset', 'SerialNumber')), a.canEditField(o('Asset'), f('Asset', 'SerialNumber'))]).toEqual([true, false]);
  });
  it('CaseComment follows Case (create needs edit); User is readable by all', () => {
    expect([a.canRead(o('CaseComment')), a.canCreate(o('CaseComment'))]).toEqual([true, true]);
    const readOnlyCase = accessFromGrants(parsePermissionSet('<objectPermissions><allowRead>true</allowRead><object>Case</object></objectPermissions>'));
    expect([readOnlyCase.canRead(o('CaseComment')), readOnlyCase.canCreate(o('CaseComment'))]).toEqual([true, false]);
    expect([a.canRead(o('User')), a.canCreate(o('User'))]).toEqual([true, false]);
  });
  it('a user holding two permission sets has the union', () => {
    const other = parsePermissionSet('<objectPermissions><allowRead>true</allowRead><allowCreate>true</allowCreate><object>WorkOrder</object></objectPermissions>');
    const both = accessFromGrants(unionGrants([parsePermissionSet(XML), other]));
    expect([both.canCreate(o('Case')), both.canCreate(o('WorkOrder')), both.canEdit(o('WorkOrder'))]).toEqual([true, true, false]);
  });
});

describe('validation rules and org rules', () => {
  it('compiles the no-decrease formula and refuses any other', () => {
    const rule = compileFormula('Case', 'AND(NOT(ISNEW()),\n  PdM_Event_Ts__c < PRIORVALUE(PdM_Event_Ts__c))');
    expect(rule({ PdM_Event_Ts__c: 1 }, { PdM_Event_Ts__c: 2 })).toBe(true);
    expect(() => compileFormula('Case', 'ISBLANK(Reason)')).toThrow('salesforce stand-in: validation rule formula on Case not supported: ISBLANK(Reason)');
    expect(() => compileFormula('Case', 'AND(NOT(ISNEW()), A__c < PRIORVALUE(B__c))')).toThrow('not supported');
  });
  it('names what is wrong with an injected rule', () => {
    expect(orgRuleProblem({ kind: 'required', object: 'Widget', field: 'X' })).toBe('unknown object Widget');
    expect(orgRuleProblem({ kind: 'required', object: 'Case', field: 'Nope' })).toBe('unknown field Nope on Case');
    expect(orgRuleProblem({ kind: 'validation', object: 'Case', name: '', errorMessage: '', requireField: 'Reason' })).toBe('a validation rule needs name and errorMessage');
    expect(orgRuleProblem({ kind: 'required', object: 'case', field: 'reason' })).toBeUndefined();
  });
  it('applies injected rules to their object only, case-insensitively', () => {
    const rules = new OrgRules([]);
    rules.add({ kind: 'required', object: 'case', field: 'reason' });
    rules.add({ kind: 'validation', object: 'Case', name: 'R', errorMessage: 'Reason!', requireField: 'Reason', when: { field: 'Origin', equals: 'web' } });
    expect(rules.requiredFields(o('Case'))).toEqual(['Reason']);
    expect(rules.requiredFields(o('WorkOrder'))).toEqual([]);
    expect(rules.validate(o('Case'), { Origin: 'Web' }, undefined)).toEqual([{ errorCode: 'FIELD_CUSTOM_VALIDATION_EXCEPTION', message: 'Reason!', fields: [] }]);
    expect(rules.validate(o('Case'), { Origin: 'Phone' }, undefined)).toEqual([]);
  });
  it('platform rules: asset owner (strict only), appointment window and final statuses', () => {
    expect(platformErrors(o('Asset'), { Name: 'a' }, undefined, false)).toEqual([]);
    expect(platformErrors(o('Asset'), { Name: 'a' }, undefined, true)[0]!.errorCode).toBe('FIELD_INTEGRITY_EXCEPTION');
    const sa = { EarliestStartTime: '2030-01-01T00:00:00.000+0000', DueDate: '2030-01-01T00:00:00.000+0000', Status: 'None' };
    expect(platformErrors(o('ServiceAppointment'), sa, undefined, false)[0]!.message).toBe('Due Date must be later than Earliest Start Permitted.');
    const ok = { ...sa, DueDate: '2030-01-01T01:00:00.000+0000' };
    expect(platformErrors(o('ServiceAppointment'), { ...ok, Status: 'Canceled' }, { ...ok, Status: 'Scheduled' }, false)).toEqual([]);
    expect(platformErrors(o('ServiceAppointment'), { ...ok, Status: 'Canceled' }, { ...ok, Status: 'Canceled' }, false)).toEqual([]);
    expect(platformErrors(o('ServiceAppointment'), { ...ok, Status: 'Scheduled' }, { ...ok, Status: 'Canceled' }, false)).toHaveLength(1);
  });
  it('reads the Assignment Rule header as Salesforce does (absent means TRUE)', () => {
    expect([autoAssign(undefined), autoAssign(''), autoAssign('TRUE'), autoAssign('false'), autoAssign('FALSE'), autoAssign('01Q000000000001')]).toEqual([true, true, true, false, false, true]);
  });
});
