/**
 * The configuration reference, generated from the settings table (settings.ts): the README
 * holds it between REFERENCE_BEGIN and REFERENCE_END, `pdm config reference` prints it, and
 * reference.test.ts fails when the two differ.
 */
import { DETECTION_SECTION } from './config-file.ts';
import { CONFIG_FILE_ENV, SETTINGS, settingByKey } from './settings.ts';

export const REFERENCE_BEGIN = '<!-- config-reference:begin (generated: npx pdm config reference) -->';
export const REFERENCE_END = '<!-- config-reference:end -->';

const cell = (s: string): string => s.replace(/\|/g, '\\|');

/** The reference as a Markdown table, one row per setting, then the detection section. */
export function referenceMarkdown(): string {
  const rows = SETTINGS.map((s) => {
    const inFile = s.secret ? `~~${s.key}~~` : `\`${s.key}\``;
    const def = s.default === '' ? '' : `\`${cell(s.default)}\``;
    const note = s.secret ? ` **A secret: only in the environment${settingByKey(`${s.key}File`) ? ` or its \`_FILE\`` : ''}, refused in the file.**` : '';
    return `| ${inFile} | \`${s.env}\` | ${def} | ${cell(s.description)}.${note} |`;
  });
  return [
    '| file key | environment variable | default | what it sets |',
    '|---|---|---|---|',
    ...rows,
    `| \`${DETECTION_SECTION}\` | | the built-in configuration | detection: \`version\`, \`detector\` (parameters), \`assetTypes\` (sensors, ranges, failure modes), merged over \`services/core/default-config.ts\`; see "Detection configuration" |`,
    `| | \`${CONFIG_FILE_ENV}\` | | the configuration file, like \`--config FILE\` |`,
  ].join('\n');
}

/** `readme` with its reference table replaced by the current one; undefined when the markers are missing. */
export function withReference(readme: string): string | undefined {
  const a = readme.indexOf(REFERENCE_BEGIN);
  const b = readme.indexOf(REFERENCE_END);
  if (a < 0 || b < a) return undefined;
  return `${readme.slice(0, a + REFERENCE_BEGIN.length)}\n${referenceMarkdown()}\n${readme.slice(b)}`;
}
