/** `pdm config check` and `pdm config reference` through the real CLI. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const BIN = join(import.meta.dirname, 'bin.mjs');
const dir = mkdtempSync(join(tmpdir(), 'pdm-config-cli-'));
/** Runs pdm with only the given PDM_ variables (none of the caller's). */
const pdm = (args: string[], env: Record<string, string> = {}) => {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PDM_')));
  return spawnSync(process.execPath, [BIN, ...args], { env: { ...base, ...env }, encoding: 'utf8', timeout: 30_000 });
};
const write = (name: string, body: unknown) => {
  const path = join(dir, name);
  writeFileSync(path, typeof body === 'string' ? body : JSON.stringify(body));
  return path;
};

describe('pdm config check', () => {
  it('says a valid configuration is valid, where its values came from, and prints no secret', () => {
    const path = write('prod.json', { kafka: { brokers: ['k1:9092'], partitions: 12 }, influx: { url: 'https://influx.example.com' }, detection: { detector: { raiseThreshold: 0.6 } } });
    const r = pdm(['config', 'check', path], { PDM_INFLUX_URL: 'https://influx-2.example.com', PDM_INFLUX_TOKEN: 'tok-123456' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`${path}: valid`);
    expect(r.stdout).toContain('from the file: kafka.brokers, kafka.partitions, and the detection section');
    expect(r.stdout).toContain("the environment overrides the file's: influx.url (PDM_INFLUX_URL)");
    expect(r.stdout).toContain('InfluxDB: https://influx-2.example.com');
    expect(r.stdout).toContain('raise threshold 0.6');
    expect(r.stdout).not.toContain('tok-123456');
  });

  it('names every problem with exit 1, the file taken from PDM_CONFIG_FILE', () => {
    const path = write('bad.json', { kafka: { partitions: 0 }, influx: { token: 'x' }, detection: { detector: { raiseThreshold: 2 } } });
    const r = pdm(['config', 'check'], { PDM_CONFIG_FILE: path, PDM_REGISTRY_URL: 'ftp://x' });
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines[0]).toBe('pdm config check: invalid configuration (4 problems):');
    expect(lines.slice(1).sort()).toEqual(
      [
        `  - ${path}: influx.token: a credential does not belong in the configuration file; set PDM_INFLUX_TOKEN instead`,
        `  - ${path}: kafka.partitions: PDM_PARTITIONS: must be an integer 1-1000`,
        '  - PDM_REGISTRY_URL=ftp://x: must be an http(s) URL',
        `  - ${path}: detection.detector.raiseThreshold: must be between 0.000001 and 1, got 2`,
      ].sort(),
    );
  });

  it('refuses a second file or an option (exit 2)', () => {
    expect(pdm(['config', 'check', 'a.json', 'b.json']).status).toBe(2);
    expect(pdm(['config', 'lint']).stderr).toContain("pdm config: unknown subcommand 'lint'");
  });
});

describe('pdm config reference', () => {
  it('prints the table and refreshes it in a README between its markers', () => {
    const r = pdm(['config', 'reference']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('| `kafka.brokers` | `PDM_KAFKA_BROKERS` |');
    const readme = write('README.md', '# x\n<!-- config-reference:begin (generated: npx pdm config reference) -->\nold\n<!-- config-reference:end -->\ntail\n');
    expect(pdm(['config', 'reference', '--write-readme', readme]).stdout).toBe(`${readme}: reference table updated\n`);
    expect(readFileSync(readme, 'utf8')).toBe(`# x\n<!-- config-reference:begin (generated: npx pdm config reference) -->\n${r.stdout}<!-- config-reference:end -->\ntail\n`);
    expect(pdm(['config', 'reference', '--write-readme', readme]).stdout).toBe(`${readme}: already current\n`);
  });
});
