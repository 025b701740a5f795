/**
 * End-to-end tests of `pdm score`: each spawns the real command (bin.mjs through tsx) on a
 * small CSV written to a temporary folder, as a user would run it.
 */
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, newState, score } from '../core/index.ts';
import { CsvReader } from './csv.ts';
import { TRAILING_COLUMNS } from './score.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(ROOT, 'services', 'cli', 'bin.mjs');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `pdm ...args` with optional stdin text and extra environment. */
function pdm(args: string[], stdin?: string, env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: ROOT,
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin ?? '');
  });
}

function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  const r = new CsvReader((f) => rows.push(f));
  r.push(text);
  r.end();
  return rows;
}

/** What pdm score says of sensors that never got past their learning readings. */
const LEARNING_WARNING = (sensors: string, had: string): string =>
  `pdm score: warning: no anomaly score for ${sensors}: a sensor learns from its first 300 valid readings (score 0) and ${had}\n`;

/** Column `name` of parsed CSV rows (header first). */
function column(rows: string[][], name: string): string[] {
  const i = rows[0]!.indexOf(name);
  if (i < 0) throw new Error(`no column ${name} in ${rows[0]!.join(',')}`);
  return rows.slice(1).map((r) => r[i]!);
}

/** A generic 2-sensor series, one row a minute, with a spike at row 250. */
function series(rows: number): Array<{ ts: number; temp: number; pressure: number }> {
  const out = [];
  const t0 = Date.UTC(2026, 2, 7, 0, 0, 0);
  for (let i = 0; i < rows; i++) {
    const temp = 20 + 2 * Math.sin(i / 30) + ((i * 7919) % 13) / 26 + (i === 250 ? 40 : 0);
    const pressure = 230 + ((i * 104729) % 17) / 17;
    out.push({ ts: t0 + i * 60_000, temp: Math.round(temp * 1000) / 1000, pressure: Math.round(pressure * 1000) / 1000 });
  }
  return out;
}

type TsFormat = 'iso' | 'space' | 'epoch_s' | 'epoch_ms';
function formatTs(ts: number, f: TsFormat): string {
  const iso = new Date(ts).toISOString();
  if (f === 'iso') return iso;
  if (f === 'space') return iso.slice(0, 19).replace('T', ' ');
  if (f === 'epoch_s') return String(ts / 1000);
  return String(ts);
}

function genericCsv(rows: number, f: TsFormat = 'iso'): string {
  return 'timestamp,temp,pressure\n' + series(rows).map((r) => `${formatTs(r.ts, f)},${r.temp},${r.pressure}\n`).join('');
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pdm-score-test-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('pdm score (generic)', () => {
  it('writes one row per input row with scores and health in [0, 1]', async () => {
    const input = join(dir, 'generic.csv');
    await writeFile(input, genericCsv(400));
    const run = await pdm(['score', '--input', input]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const rows = parseCsv(run.stdout);
    expect(rows[0]).toEqual(['timestamp', 'score', 'score_temp', 'score_pressure', ...TRAILING_COLUMNS]);
    expect(rows.length).toBe(401);
    expect(column(rows, 'timestamp')[0]).toBe('2026-03-07T00:00:00.000Z');
    for (const name of ['score', 'score_temp', 'score_pressure', 'health']) {
      for (const v of column(rows, name)) {
        const x = Number(v);
        expect(v).not.toBe('');
        expect(x).toBeGreaterThanOrEqual(0);
        expect(x).toBeLessThanOrEqual(1);
      }
    }
    // The CLI reports exactly what the core computes for the same readings (rounded to 1e-6).
    let state = newState('generic', 'generic', DEFAULT_CONFIG);
    const expected = series(400).map((r) => {
      const step = score(state, { assetId: 'generic', assetType: 'generic', ts: r.ts, values: { temp: r.temp, pressure: r.pressure } }, DEFAULT_CONFIG);
      state = step.state;
      const round = (x: number | undefined): string => String(Math.round(x! * 1e6) / 1e6);
      return [round(step.score), round(step.sensors.find((x) => x.sensor === 'temp')?.score), round(step.sensors.find((x) => x.sensor === 'pressure')?.score), round(step.health)];
    });
    expect(rows.slice(1).map((r) => r.slice(1, 5))).toEqual(expected);
  });

  it('reads ISO 8601, "YYYY-MM-DD HH:MM:SS" (UTC), epoch seconds and epoch milliseconds as the same instants', async () => {
    const outputs: string[][] = [];
    for (const f of ['iso', 'space', 'epoch_s', 'epoch_ms'] as const) {
      const input = join(dir, `ts-${f}.csv`);
      await writeFile(input, genericCsv(300, f));
      const run = await pdm(['score', '--input', input, '--asset-id', 'same']);
      expect(run.code).toBe(0);
      const rows = parseCsv(run.stdout);
      expect(column(rows, 'timestamp')[1]).toBe(formatTs(Date.UTC(2026, 2, 7, 0, 1), f));
      // Everything but the echoed timestamp must be identical across formats.
      outputs.push(rows.map((r) => r.slice(1).join(',')));
    }
    expect(outputs[1]).toEqual(outputs[0]);
    expect(outputs[2]).toEqual(outputs[0]);
    expect(outputs[3]).toEqual(outputs[0]);
  });

  it('parses quoted fields (RFC 4180) and quotes output fields that need it', async () => {
    const data = series(200);
    const plain = 'timestamp,a,b\n' + data.map((r) => `${r.ts},${r.temp},${r.pressure}\n`).join('');
    const quoted =
      '"timestamp","temp, inner","say ""p"""\r\n' + data.map((r) => `"${r.ts}","${r.temp}",${r.pressure}\r\n`).join('');
    await writeFile(join(dir, 'plain.csv'), plain);
    await writeFile(join(dir, 'quoted.csv'), quoted);
    const a = await pdm(['score', '-i', join(dir, 'plain.csv'), '--asset-id', 'q']);
    const b = await pdm(['score', '-i', join(dir, 'quoted.csv'), '--asset-id', 'q']);
    expect(b.code).toBe(0);
    expect(b.stdout.split('\n')[0]).toBe(`timestamp,score,"score_temp, inner","score_say ""p""",${TRAILING_COLUMNS.join(',')}`);
    expect(a.stdout.split('\n').slice(1)).toEqual(b.stdout.split('\n').slice(1));
  });

  it('reads stdin and writes stdout with -', async () => {
    const run = await pdm(['score', '--input', '-', '--output', '-'], genericCsv(150));
    expect(run.code).toBe(0);
    expect(parseCsv(run.stdout).length).toBe(151);
  });

  it('writes --output FILE, leaving no temporary file behind', async () => {
    const input = join(dir, 'to-file.csv');
    const output = join(dir, 'to-file.scored.csv');
    await writeFile(input, genericCsv(120));
    const run = await pdm(['score', '--input', input, '--output', output]);
    expect(run).toEqual({ code: 0, stdout: '', stderr: LEARNING_WARNING('"temp", "pressure"', 'they had 120, 120') });
    expect(parseCsv(await readFile(output, 'utf8')).length).toBe(121);
    expect(existsSync(`${output}.partial`)).toBe(false);
  });

  it('treats an empty cell as a missing sensor and text as NaN (a data-quality finding), not a crash', async () => {
    const lines = genericCsv(200).split('\n');
    lines[150] = lines[150]!.replace(/,[^,]*$/, ','); // pressure missing
    lines[160] = lines[160]!.replace(/,[^,]*,/, ',n/a,'); // temp is text
    const run = await pdm(['score', '--input', '-'], lines.join('\n'));
    expect(run.code).toBe(0);
    const rows = parseCsv(run.stdout);
    expect(rows.length).toBe(201);
    expect(column(rows, 'score_pressure')[149]).toBe('');
    expect(column(rows, 'quality')[159]).toBe('nan:temp');
    // Not scored, so no score rather than a made-up 0.
    expect(column(rows, 'score_temp')[159]).toBe('');
  });
});

describe('pdm score --asset-type', () => {
  const EV = ['battery_cell_temp_c', 'battery_soc_pct', 'pack_voltage_v', 'motor_temp_c',
    'tire_pressure_fl_kpa', 'tire_pressure_fr_kpa', 'tire_pressure_rl_kpa', 'tire_pressure_rr_kpa'];

  function evCsv(extra: boolean, motorAt: (i: number) => number): string {
    const head = ['timestamp', ...EV, ...(extra ? ['cabin_humidity'] : [])].join(',');
    const lines = [head];
    for (let i = 0; i < 300; i++) {
      const ts = new Date(Date.UTC(2026, 2, 7) + i * 60_000).toISOString();
      const v = [25 + (i % 5) * 0.1, 80 - i * 0.01, 380 + (i % 3), motorAt(i), 240, 241, 239, 240.5 + (i % 2) * 0.2];
      lines.push([ts, ...v, ...(extra ? [45] : [])].join(','));
    }
    return lines.join('\n') + '\n';
  }

  it('scores the type\'s sensors and reports a value outside the physical range as a finding', async () => {
    const run = await pdm(['score', '--input', '-', '--asset-type', 'passenger_ev'], evCsv(false, (i) => (i === 200 ? 900 : 40 + (i % 7) * 0.2)));
    // 300 rows: every sensor is still learning at its 300th value, so the command says so.
    expect(run.stderr).toBe(LEARNING_WARNING(EV.map((s) => `"${s}"`).join(', '), 'they had 300, 300, 300, 299, 300, 300, 300, 300'));
    expect(run.code).toBe(0);
    const rows = parseCsv(run.stdout);
    expect(rows.length).toBe(301);
    expect(rows[0]).toEqual(['timestamp', 'score', ...EV.map((s) => `score_${s}`), ...TRAILING_COLUMNS]);
    expect(column(rows, 'quality')[200]).toBe('out_of_range:motor_temp_c');
  });

  it('passes a column the type does not know to the core and warns once on stderr', async () => {
    const run = await pdm(['score', '--input', '-', '--asset-type', 'passenger_ev'], evCsv(true, () => 40));
    expect(run.code).toBe(0);
    // Once, then the 300 rows' learning warning.
    expect(run.stderr).toMatch(/^pdm score: warning: column "cabin_humidity" is not a sensor of asset type passenger_ev: .+\npdm score: warning: no anomaly score for "battery_cell_temp_c", .+\n$/);
    expect(column(parseCsv(run.stdout), 'quality')[0]).toContain('unknown_sensor:cabin_humidity');
  });

  it('refuses an asset type the configuration does not define (exit 1)', async () => {
    const run = await pdm(['score', '--input', '-', '--asset-type', 'blender'], 'timestamp,a\n1,2\n');
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^pdm score: unknown asset type "blender" \(configured: .*passenger_ev.*\)\n$/);
    expect(run.stdout).toBe('');
  });
});

describe('pdm score errors', () => {
  it('names the missing timestamp column and the columns found (exit 1)', async () => {
    const input = join(dir, 'no-ts.csv');
    await writeFile(input, 'time,temp\n2026-03-07T00:00:00Z,1\n');
    const run = await pdm(['score', '--input', input]);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(`pdm score: ${input}: line 1: no "timestamp" column in the header (columns: time, temp)\n`);
    expect(run.stdout).toBe('');
  });

  it('names the line of an unparseable timestamp and leaves no output file', async () => {
    const input = join(dir, 'bad-ts.csv');
    const output = join(dir, 'bad-ts.out.csv');
    const lines = genericCsv(10).split('\n');
    lines[7] = 'yesterday' + lines[7]!.slice(lines[7]!.indexOf(','));
    await writeFile(input, lines.join('\n'));
    const run = await pdm(['score', '--input', input, '--output', output]);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      `pdm score: ${input}: line 8: unparseable timestamp "yesterday" (expected ISO 8601 such as ` +
        '2026-03-07T12:30:00Z or "2026-03-07 12:30:00" (UTC), or epoch seconds or milliseconds)\n',
    );
    expect(existsSync(output)).toBe(false);
    expect(existsSync(`${output}.partial`)).toBe(false);
  });

  it('names the line of a row with the wrong number of fields', async () => {
    const run = await pdm(['score', '--input', '-'], 'timestamp,a,b\n1,2,3\n"multi\nline",1\n');
    expect(run.code).toBe(1);
    expect(run.stderr).toBe('pdm score: stdin: line 3: 2 fields, the header has 3\n');
  });

  it('reports malformed CSV with its line', async () => {
    const run = await pdm(['score', '--input', '-'], 'timestamp,a\n1,"open\n');
    expect(run.code).toBe(1);
    expect(run.stderr).toBe('pdm score: stdin: line 2: quoted field not closed before the end of the input\n');
  });

  it('reports an empty input', async () => {
    const run = await pdm(['score', '--input', '-'], '');
    expect(run.code).toBe(1);
    expect(run.stderr).toBe('pdm score: stdin: empty input, expected a header line\n');
  });

  it('reports an unreadable input file (exit 1)', async () => {
    const missing = join(dir, 'missing.csv');
    const run = await pdm(['score', '--input', missing]);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(`pdm score: cannot read input ${missing}: ENOENT: no such file or directory, stat '${missing}'\n`);
  });

  it('reports a config file that is not JSON', async () => {
    const cfg = join(dir, 'bad.json');
    await writeFile(cfg, '{ "version": ');
    const run = await pdm(['score', '--input', '-', '--config', cfg], 'timestamp,a\n1,2\n');
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(new RegExp(`^pdm score: config ${cfg} is invalid \\(1 issue\\(s\\)\\):\\n  - not JSON: .+\\n$`));
  });

  it('lists every problem of an invalid config at once (exit 1)', async () => {
    const cfg = join(dir, 'invalid.json');
    await writeFile(cfg, JSON.stringify({ detector: { windowSize: -3, sparseZ: 'high' }, colour: 'blue' }));
    const run = await pdm(['score', '--input', '-', '--config', cfg], 'timestamp,a\n1,2\n');
    expect(run.code).toBe(1);
    const lines = run.stderr.trimEnd().split('\n');
    const head = new RegExp(`^pdm score: config ${cfg} is invalid \\((\\d+) issue\\(s\\)\\):$`).exec(lines[0]!);
    expect(head).not.toBeNull();
    expect(lines.length - 1).toBe(Number(head![1]));
    const paths = new Set(lines.slice(1).map((l) => l.split(':')[0]));
    expect([...paths].sort()).toEqual(['  - colour', '  - detector.sparseZ', '  - detector.windowSize']);
  });

  it('applies a valid config: a new asset type with its own sensor range', async () => {
    const cfg = join(dir, 'pump.json');
    await writeFile(
      cfg,
      JSON.stringify({
        assetTypes: { pump: { description: 'test pump', sensors: { flow_lpm: { unit: 'L/min', min: 0, max: 10 } }, failureModes: {} } },
      }),
    );
    const run = await pdm(['score', '--input', '-', '--config', cfg, '--asset-type', 'pump'], 'timestamp,flow_lpm\n1,5\n2,50\n3,5\n');
    expect(run.stderr).toBe(LEARNING_WARNING('"flow_lpm"', 'it had 2'));
    expect(column(parseCsv(run.stdout), 'quality')).toEqual(['', 'out_of_range:flow_lpm', '']);
    const without = await pdm(['score', '--input', '-', '--asset-type', 'pump'], 'timestamp,flow_lpm\n1,5\n');
    expect(without.code).toBe(1);
    expect(without.stderr).toMatch(/^pdm score: unknown asset type "pump"/);
  });

  it.each([
    [['score'], 'pdm score: --input is required (a CSV file, or - for stdin; see pdm score --help)\n'],
    [['score', '--input', 'x.csv', '--colour'], 'pdm score: unknown option --colour (see pdm score --help)\n'],
    [['score', '--input'], 'pdm score: option --input needs a value\n'],
    [['score', '-i', 'x', '--progress', '--no-progress'], 'pdm score: --progress and --no-progress exclude each other\n'],
    // Other commands join the registry over time; the list must name score among them.
    [['socre'], /^pdm: unknown command 'socre' \(commands: (?:[a-z-]+, )*score(?:, [a-z-]+)*; see pdm --help\)\n$/],
  ])('refuses usage %j with exit 2', async (args, message) => {
    const run = await pdm(args);
    expect(run.code).toBe(2);
    if (typeof message === 'string') expect(run.stderr).toBe(message);
    else expect(run.stderr).toMatch(message);
  });

  it('prints help for pdm --help and pdm score --help', async () => {
    const main = await pdm(['--help']);
    expect(main.code).toBe(0);
    expect(main.stdout).toMatch(/^Usage: pdm <command> \[options\]\n[\s\S]*\n {2}score +score a CSV file/);
    const score = await pdm(['score', '--help']);
    expect(score.code).toBe(0);
    expect(score.stdout).toMatch(/^Usage: pdm score --input FILE\|- /);
    expect(score.stdout).toContain('0.5 or more\nmeans the reading is rarer than the sensor has been');
  });
});

describe('pdm score streaming', () => {
  /** Writes `rows` generic rows to `path` through a stream (the test itself stays small). */
  async function bigCsv(path: string, rows: number): Promise<void> {
    const out = createWriteStream(path);
    out.write('timestamp,temp,pressure,flow\n');
    const t0 = Date.UTC(2026, 0, 1);
    for (let i = 0; i < rows; i += 1000) {
      let chunk = '';
      for (let k = i; k < Math.min(rows, i + 1000); k++) {
        chunk += `${(t0 + k * 60_000) / 1000},${(20 + Math.sin(k / 90) + (k % 11) / 20).toFixed(3)},${230 + (k % 17) / 10},${(5 + (k % 5) / 10).toFixed(1)}\n`;
      }
      if (!out.write(chunk)) await once(out, 'drain');
    }
    out.end();
    await once(out, 'close');
  }

  it('scores 500,000 rows (14 MB in, 15 MB out) within a 32 MiB heap', async () => {
    // Holding the input or the output whole (a string, or an array of rows) does not fit in
    // a 32 MiB old generation: node dies with "heap out of memory". Streaming does.
    const input = join(dir, 'large.csv');
    const output = join(dir, 'large.out.csv');
    await bigCsv(input, 500_000);
    const run = await pdm(['score', '--input', input, '--output', output, '--progress'], '', {
      NODE_OPTIONS: '--max-old-space-size=32',
    });
    expect(run.stderr).toMatch(/^(pdm score: [\d,]+ rows, [\d,]+ rows\/s, [\d.]+% of 13\.2 MiB, \d+ s left\n)*pdm score: 500,000 rows in [\d.]+ s \([\d,]+ rows\/s\), peak RSS [\d.]+ MiB\n$/);
    expect(run.code).toBe(0);
    let lines = 0;
    for await (const chunk of (await import('node:fs')).createReadStream(output)) {
      for (const byte of chunk as Buffer) if (byte === 10) lines++;
    }
    expect(lines).toBe(500_001);
  }, 120_000);
});
