/**
 * Keeps the stand-in's object table and the metadata a user deploys to a real org in step:
 * every custom field in schema.ts has a field-meta.xml with the same type, length,
 * precision, external-id and unique settings, a permission and a manifest entry, and there
 * is no XML for a field the table does not know. The permission sets name only fields a
 * permission set may name (not those exempt from field-level security, which a deploy
 * refuses), and every validation rule shipped is one the stand-in enforces.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { FIELD_SERVICE_PERMISSION_SET_FILE, PERMISSION_SET_FILE, parsePermissionSet } from './access.ts';
import { FIELD_SERVICE_OBJECTS_DIR, loadValidationRules, METADATA_OBJECTS_DIR } from './org-rules.ts';
import { CUSTOM_FIELDS, SOBJECTS, findField } from './schema.ts';
import { idSuffix, makeId, normalizeId } from './ids.ts';

const META = fileURLToPath(new URL('../salesforce/', import.meta.url));
const XML_TYPE: Record<string, string> = { string: 'Text', double: 'Number', datetime: 'DateTime', url: 'Url' };
/** Where each object's metadata lives: Field Service objects in their own package directory and manifest. */
const HOME: Record<string, { objects: string; permissionSet: string; manifest: string }> = {
  Case: { objects: METADATA_OBJECTS_DIR, permissionSet: PERMISSION_SET_FILE, manifest: `${META}manifest/package.xml` },
  WorkOrder: { objects: FIELD_SERVICE_OBJECTS_DIR, permissionSet: FIELD_SERVICE_PERMISSION_SET_FILE, manifest: `${META}manifest/field-service.xml` },
  ServiceAppointment: { objects: FIELD_SERVICE_OBJECTS_DIR, permissionSet: FIELD_SERVICE_PERMISSION_SET_FILE, manifest: `${META}manifest/field-service.xml` },
};

function tag(xml: string, name: string): string | undefined {
  return new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml)?.[1];
}

const allCustom = Object.entries(CUSTOM_FIELDS).flatMap(([object, fields]) => fields.map((f) => [`${object}.${f.name}`, object, f] as const));

describe('custom fields: schema.ts vs infra/salesforce metadata', () => {
  it.each(Object.keys(CUSTOM_FIELDS))('%s has exactly one field-meta.xml per custom field', (object) => {
    const dir = `${HOME[object]!.objects}${object}/fields/`;
    const files = readdirSync(dir).filter((f) => f.endsWith('.field-meta.xml')).map((f) => f.replace('.field-meta.xml', '')).sort();
    expect(files).toEqual(CUSTOM_FIELDS[object]!.map((f) => f.name).sort());
  });

  it.each(allCustom)('%s matches its XML, is granted editable and is in the manifest', (_name, object, f) => {
    const xml = readFileSync(`${HOME[object]!.objects}${object}/fields/${f.name}.field-meta.xml`, 'utf8');
    expect(tag(xml, 'fullName')).toBe(f.name);
    expect(tag(xml, 'label')).toBe(f.label);
    expect(tag(xml, 'type')).toBe(XML_TYPE[f.type]);
    expect(tag(xml, 'externalId')).toBe(String(!!f.externalId));
    expect(tag(xml, 'description')).toBe(f.description);
    if (f.type === 'string') {
      expect(tag(xml, 'length')).toBe(String(f.length));
      expect(tag(xml, 'unique')).toBe(String(!!f.unique));
    }
    if (f.type === 'double') {
      expect(tag(xml, 'precision')).toBe(String(f.precision));
      expect(tag(xml, 'scale')).toBe(String(f.scale));
    }
    // Every custom field is also on the object the server serves.
    expect(SOBJECTS[object]!.fields).toContain(f);
    const grants = parsePermissionSet(readFileSync(HOME[object]!.permissionSet, 'utf8'));
    expect(grants.fields.get(`${object}.${f.name}`)).toEqual({ readable: true, editable: true });
    expect(readFileSync(HOME[object]!.manifest, 'utf8')).toContain(`<members>${object}.${f.name}</members>`);
  });
});

describe('permission sets and validation rules', () => {
  it.each([PERMISSION_SET_FILE, FIELD_SERVICE_PERMISSION_SET_FILE])('%s names only known fields a permission set may name', (file) => {
    const grants = parsePermissionSet(readFileSync(file, 'utf8'));
    for (const name of [...grants.fields.keys()]) {
      const [object, field] = name.split('.');
      const f = SOBJECTS[object!] ? findField(SOBJECTS[object!]!, field!) : undefined;
      expect(f, name).toBeDefined();
      expect(f!.flsExempt, `${name} is exempt from field-level security: a deploy refuses it in a permission set`).toBeFalsy();
      expect(f!.readOnly, name).toBeFalsy();
    }
    for (const o of grants.objects.keys()) expect(SOBJECTS[o]?.accessVia, `${o} takes its access from its parent`).toBeUndefined();
  });

  it('grants no delete, view all or modify all', () => {
    for (const file of [PERMISSION_SET_FILE, FIELD_SERVICE_PERMISSION_SET_FILE]) {
      const xml = readFileSync(file, 'utf8');
      expect(xml).not.toMatch(/<allowDelete>true|<viewAllRecords>true|<modifyAllRecords>true/);
    }
  });

  it('enforces every shipped validation rule, and each is in its manifest', () => {
    const rules = loadValidationRules();
    expect(rules.map((r) => `${r.object}.${r.name}`).sort()).toEqual(['Case.PdM_Event_Order', 'ServiceAppointment.PdM_Event_Order', 'WorkOrder.PdM_Event_Order']);
    for (const r of rules) expect(readFileSync(HOME[r.object]!.manifest, 'utf8')).toContain(`<members>${r.object}.${r.name}</members>`);
    const order = rules.find((r) => r.object === 'Case')!;
    expect(order.failsWhen({ PdM_Event_Ts__c: 5 }, { PdM_Event_Ts__c: 6 })).toBe(true);
    expect(order.failsWhen({ PdM_Event_Ts__c: 6 }, { PdM_Event_Ts__c: 6 })).toBe(false);
    expect(order.failsWhen({ PdM_Event_Ts__c: 5 }, { PdM_Event_Ts__c: null })).toBe(false);
    expect(order.failsWhen({ PdM_Event_Ts__c: 5 }, undefined)).toBe(false);
  });

  it('sfdx-project.json lists both package directories', () => {
    const project = JSON.parse(readFileSync(`${META}sfdx-project.json`, 'utf8')) as { packageDirectories: { path: string }[] };
    expect(project.packageDirectories.map((d) => d.path)).toEqual(['force-app', 'field-service']);
    for (const d of project.packageDirectories) expect(existsSync(`${META}${d.path}`)).toBe(true);
  });
});

describe('record ids', () => {
  it('computes the case-safe suffix Salesforce uses', () => {
    // Known pair from Salesforce documentation examples: 001D000000IqhSL → 001D000000IqhSLIAZ.
    expect(idSuffix('001D000000IqhSL')).toBe('IAZ');
    expect(normalizeId('001D000000IqhSL')).toBe('001D000000IqhSLIAZ');
    expect(normalizeId('001D000000IqhSLiaz')).toBe('001D000000IqhSLIAZ');
    expect(normalizeId('001D000000IqhSLAAA')).toBeUndefined();
    expect(normalizeId('not-an-id')).toBeUndefined();
  });

  it('makes 18-character ids with the object key prefix, distinct per sequence number', () => {
    const a = makeId('500', 1);
    const b = makeId('500', 62);
    expect(a).toHaveLength(18);
    expect(a.startsWith('500')).toBe(true);
    expect(a).not.toBe(b);
    expect(normalizeId(a)).toBe(a);
  });
});
