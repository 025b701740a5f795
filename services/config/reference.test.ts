/** The README's configuration reference is the one the settings table generates. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REFERENCE_BEGIN, REFERENCE_END, referenceMarkdown, withReference } from './reference.ts';
import { SETTINGS } from './settings.ts';

const README = join(import.meta.dirname, '..', '..', 'README.md');

describe('configuration reference', () => {
  it('has one row per setting, secrets marked as refused in the file', () => {
    const table = referenceMarkdown();
    for (const s of SETTINGS) expect(table).toContain(`\`${s.env}\``);
    expect(table).toMatch(/~~salesforce\.password~~ \| `PDM_SF_PASSWORD` .*refused in the file/);
  });

  it('is in the README exactly as generated (regenerate: npx pdm config reference --write-readme)', () => {
    const readme = readFileSync(README, 'utf8');
    expect(readme).toContain(REFERENCE_BEGIN);
    expect(readme).toContain(REFERENCE_END);
    expect(withReference(readme)).toBe(readme);
  });
});
