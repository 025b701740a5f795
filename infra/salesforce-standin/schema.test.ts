/**
 * Keeps the stand-in's object table and the metadata a user deploys to a real org in step:
 * every custom Case field in schema.ts has a field-meta.xml with the same type, length,
 * precision, external-id and unique settings, a permission and a package.xml entry, and
 * there is no XML for a field the table does not know.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CASE_CUSTOM_FIELDS, SOBJECTS } from './schema.ts';
import { idSuffix, makeId, normalizeId } from './ids.ts';

const META = fileURLToPath(new URL('../salesforce/', import.meta.url));
const FIELDS_DIR = `${META}force-app/main/default/objects/Case/fields/`;
const XML_TYPE: Record<string, string> = { string: 'Text', double: 'Number', datetime: 'DateTime', url: 'Url' };

function tag(xml: string, name: string): string | undefined {
  return new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml)?.[1];
}

describe('Case custom fields: schema.ts vs infra/salesforce metadata', () => {
  it('has exactly one field-meta.xml per custom field', () => {
    const files = readdirSync(FIELDS_DIR).filter((f) => f.endsWith('.field-meta.xml')).map((f) => f.replace('.field-meta.xml', '')).sort();
    expect(files).toEqual(CASE_CUSTOM_FIELDS.map((f) => f.name).sort());
  });

  it.each(CASE_CUSTOM_FIELDS.map((f) => [f.name, f] as const))('%s matches its XML', (_name, f) => {
    const xml = readFileSync(`${FIELDS_DIR}${f.name}.field-meta.xml`, 'utf8');
    expect(tag(xml, 'fullName')).toBe(f.name);
    expect(tag(xml, 'label')).toBe(f.label);
    expect(tag(xml, 'type')).toBe(XML_TYPE[f.type]);
    expect(tag(xml, 'externalId')).toBe(String(!!f.externalId));
    if (f.type === 'string') {
      expect(tag(xml, 'length')).toBe(String(f.length));
      expect(tag(xml, 'unique')).toBe(String(!!f.unique));
    }
    if (f.type === 'double') {
      expect(tag(xml, 'precision')).toBe(String(f.precision));
      expect(tag(xml, 'scale')).toBe(String(f.scale));
    }
    // Every custom field is also on the object the server serves.
    expect(SOBJECTS.Case!.fields).toContain(f);
  });

  it('grants the integration user edit on every field and lists each in package.xml', () => {
    const perm = readFileSync(`${META}force-app/main/default/permissionsets/PdM_Integration.permissionset-meta.xml`, 'utf8');
    const pkg = readFileSync(`${META}manifest/package.xml`, 'utf8');
    for (const f of CASE_CUSTOM_FIELDS) {
      expect(perm).toContain(`<field>Case.${f.name}</field>`);
      expect(pkg).toContain(`<members>Case.${f.name}</members>`);
    }
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
