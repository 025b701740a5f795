/**
 * `pdm replay` without Kafka: its arguments, its errors, and the CSV input end to end (a
 * seeded fleet exported as a CSV, replayed with a changed threshold against the defaults).
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../core/index.ts';
import { createFleet } from '../simulator/fleet.ts';
import { lastJson as parseLast, runReplay } from '../replay/testkit.ts';

const T0 = Date.UTC(2026, 0, 5);
const FROM = '2026-01-14T00:00:00Z';
const TO = '2026-01-17T00:00:00Z';
const dir = mkdtempSync(join(tmpdir(), 'pdm-replay-cli-'));
const path = (name: string) => join(dir, name);

const replay = runReplay;

const FORMS = 'ISO 8601 such as 2026-01-14T00:00:00Z or "2026-01-14 06:00", or epoch seconds or milliseconds';

describe('pdm replay arguments', () => {
  it('prints its help, which says it writes nothing', async () => {
    const { code, stdout } = await replay(['--help']);
    expect(code).toBe(0);
    expect(stdout).toContain('Usage: pdm replay --from TIME --to TIME');
    expect(stdout).toContain('Writes nothing: no record is produced, no consumer offset committed');
  });

  it.each([
    { args: [], message: `--from is required (${FORMS})\n  --to is required (${FORMS})` },
    { args: ['--from', 'monday', '--to', TO, '--baseline', 'b.json', '--asset-id', 'X'], message: `--from "monday" is not a time (${FORMS})\n  --baseline applies to a CSV input only (--input)\n  --asset-id applies to a CSV input only (--input)` },
    { args: ['--from', TO, '--to', FROM], message: '--from 2026-01-17T00:00:00.000Z is not before --to 2026-01-14T00:00:00.000Z' },
    { args: ['--from', FROM, '--to', TO, '--input', 'x.csv', '--scorer-group', 'g', '--warmup-days', 'x'], message: '--warmup-days "x" is not a number of days ≥ 0\n  --scorer-group applies to the Kafka input only (without --input)' },
    { args: ['--from', FROM, '--to', TO, '--progress', '--no-progress'], message: '--progress and --no-progress exclude each other' },
  ])('refuses $args with every problem named (exit 2)', async ({ args, message }) => {
    expect(await replay(args)).toEqual({ code: 2, stdout: '', stderr: `pdm replay: ${message}\n(see pdm replay --help)\n` });
  });

  it('refuses unknown options and stray words (exit 2)', async () => {
    expect(await replay(['--from', FROM, '--to', TO, '--treshold', '0.3'])).toEqual({ code: 2, stdout: '', stderr: 'pdm replay: unknown option --treshold (see pdm replay --help)\n' });
    expect(await replay(['now'])).toEqual({ code: 2, stdout: '', stderr: "pdm replay: unexpected argument 'now' (see pdm replay --help)\n" });
  });

  it('names every problem of both configurations, a missing file and invalid settings (exit 1)', async () => {
    writeFileSync(path('bad.json'), JSON.stringify({ detector: { raiseThreshold: 2, clearRatio: 'half' } }));
    const { code, stdout, stderr } = await replay(['--from', FROM, '--to', TO, '--input', 'x.csv', '--config', path('missing.json'), '--baseline', path('bad.json')]);
    expect({ code, stdout }).toEqual({ code: 1, stdout: '' });
    const lines = stderr.trimEnd().split('\n');
    expect(lines[0]).toBe('pdm replay: invalid configuration (3 problem(s)):');
    expect(lines[1]).toBe(`  - --config ${path('missing.json')}: cannot read it (no such file)`);
    expect(lines.slice(2)).toEqual([expect.stringMatching(new RegExp(`^  - --baseline ${path('bad.json')}: detector\\.raiseThreshold: `)), expect.stringMatching(new RegExp(`^  - --baseline ${path('bad.json')}: detector\\.clearRatio: `))]);
  });
});

describe('pdm replay --input (CSV)', () => {
  const fleetCsv = path('fleet.csv');
  beforeAll(() => {
    // The seeded fleet of the integration test, exported as a historian would: one row per
    // reading, sensors as columns, the repairs as maintenance rows.
    const fleet = createFleet({ seed: 1, assetsPerType: 2, startTs: T0, days: 12, samplePeriodSec: 300, failureShare: 0.6 }, DEFAULT_CONFIG);
    const sensors = [...new Set([...DEFAULT_CONFIG.assetTypes.values()].flatMap((t) => t.sensors.map((s) => s.name)))];
    const types = new Map(fleet.assets.map((a) => [a.assetId, a.assetType]));
    const lines = [['timestamp', 'asset_id', 'asset_type', 'maintenance', ...sensors].join(',')];
    for (const e of fleet.events()) {
      if (e.type === 'reading') {
        const r = e.reading;
        lines.push([new Date(r.ts).toISOString(), r.assetId, r.assetType, '', ...sensors.map((s) => (s in r.values ? String(r.values[s]) : ''))].join(','));
      } else {
        const m = e.event;
        lines.push([new Date(m.ts).toISOString(), m.assetId, types.get(m.assetId), m.failureMode ?? '*', ...sensors.map(() => '')].join(','));
      }
    }
    writeFileSync(fleetCsv, `${lines.join('\n')}\n`);
    writeFileSync(path('low.json'), JSON.stringify({ detector: { raiseThreshold: 0.1 } }));
  });

  type Report = { summary: Record<string, number | null>; rows: { outcome: string; shiftHours: number | null; actual: { leadHours: number } | null; candidate: { leadHours: number } | null }[]; history: Record<string, unknown> };
  const lastJson = (stdout: string) => parseLast<Report>(stdout);

  it('with the baseline as candidate, every case is updated at the same reading', async () => {
    const { code, stdout, stderr } = await replay(['--from', FROM, '--to', TO, '--input', fleetCsv, '--json']);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const r = lastJson(stdout);
    expect(r.summary).toMatchObject({ wouldOpen: 0, wouldUpdate: 4, wouldNotOpen: 0, same: 4, repairs: 4, repairsAnnouncedActual: 4, repairsAnnouncedCandidate: 4 });
    expect(r.history).toEqual({ from: null, readings: 32_596, assets: 10, repairs: 4 });
    expect(stdout.split('\n')[0]).toBe('pdm replay 2026-01-14 00:00 to 2026-01-17 00:00 UTC: candidate the default configuration (version 2026-12-03.2) against the baseline (version 2026-12-03.2)');
  });

  it('with a lower threshold, raises every case earlier, with as much more lead time', async () => {
    const { code, stdout } = await replay(['--from', FROM, '--to', TO, '--input', fleetCsv, '--config', path('low.json'), '--json']);
    expect(code).toBe(0);
    const r = lastJson(stdout);
    expect(r.summary).toMatchObject({ wouldOpen: 0, wouldUpdate: 4, wouldNotOpen: 0, earlier: 4 });
    for (const row of r.rows) expect(row.candidate!.leadHours - row.actual!.leadHours).toBeCloseTo(-row.shiftHours!, 1);
    // The same from stdin.
    const piped = await replay(['--from', FROM, '--to', TO, '--input', '-', '--config', path('low.json'), '--json'], readFileSync(fleetCsv, 'utf8'));
    expect(lastJson(piped.stdout).rows).toEqual(r.rows);
  });

  it('with a warm-up shorter than the learning period, neither side raises anything', async () => {
    const { code, stdout } = await replay(['--from', FROM, '--to', TO, '--input', fleetCsv, '--warmup-days', '2', '--json']);
    expect(code).toBe(0);
    const r = lastJson(stdout);
    // Both sides start learning two days before --from: 7 days of learning, nothing raised.
    expect(r.summary).toMatchObject({ wouldOpen: 0, wouldUpdate: 0, wouldNotOpen: 0, repairs: 4 });
    expect(r.history.from).toBe('2026-01-12T00:00:00.000Z');
    expect(stdout).toContain('No episode was raised in the window, by either configuration.');
  });

  it.each([
    { name: 'missing file', csv: null, message: (f: string) => `pdm replay: cannot read input ${f}: ENOENT: no such file or directory, stat '${f}'` },
    { name: 'empty file', csv: '', message: (f: string) => `pdm replay: ${f}: empty input, expected a header line` },
    { name: 'header only', csv: 'timestamp,temp_c\n', message: (f: string) => `pdm replay: ${f}: no records after the header: there is no history to replay` },
    { name: 'no timestamp column', csv: 'time,temp_c\n1,2\n', message: (f: string) => `pdm replay: ${f}: line 1: no "timestamp" column in the header (columns: time, temp_c)` },
    { name: 'a repair with values', csv: 'timestamp,maintenance,temp_c\n2026-01-01,*,3\n', message: (f: string) => `pdm replay: ${f}: line 2: a maintenance row has sensor values: put the repair and the reading on separate rows` },
    { name: 'a bad time', csv: 'timestamp,temp_c\n2026-01-01,3\nsoon,4\n', message: (f: string) => `pdm replay: ${f}: line 3: unparseable timestamp "soon" (ISO 8601, or epoch seconds or milliseconds)` },
    { name: 'an empty asset id', csv: 'timestamp,asset_id,temp_c\n2026-01-01,,3\n', message: (f: string) => `pdm replay: ${f}: line 2: empty asset_id` },
    { name: 'an unclosed quote', csv: 'timestamp,temp_c\n2026-01-01,"3\n', message: (f: string) => `pdm replay: ${f}: line 2: quoted field not closed before the end of the input` },
  ])('names a bad CSV: $name (exit 1)', async ({ name, csv, message }) => {
    const file = path(`${name.replaceAll(' ', '-')}.csv`);
    if (csv !== null) writeFileSync(file, csv);
    expect(await replay(['--from', FROM, '--to', TO, '--input', file])).toEqual({ code: 1, stdout: '', stderr: `${message(file)}\n` });
  });
});
