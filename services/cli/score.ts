/**
 * `pdm score`: scores a CSV file of one asset's readings offline with the same scoring core
 * the stream processors run, and writes one output row per input row. This is how users
 * backfill history and tune thresholds.
 *
 * It streams: input is read chunk by chunk and each row is scored and written before the
 * next chunk is read, waiting on the output when it is slow (backpressure), so memory does
 * not grow with the file. One asset's state is all it keeps.
 */
import { createReadStream } from 'node:fs';
import { open, rename, rm, stat } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { once } from 'node:events';
import type { Readable, Writable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { loadDetectionConfig } from '../config/load.ts';
import {
  DEFAULT_CONFIG,
  newState,
  score,
  UnknownAssetTypeError,
} from '../core/index.ts';
import type { AssetState, CompiledConfig, PredictionEvent, QualityFinding, Reading, Step } from '../core/types.ts';
import { ServiceConfigError } from '../runtime/errors.ts';
import { parseOptions, UsageError } from './args.ts';
import type { CliIo, Command } from './command.ts';
import { CsvReader, CsvSyntaxError, csvLine, withHeader } from './csv.ts';
import { Progress } from './progress.ts';
import { parseTimestamp } from './timestamp.ts';

/** Input files at least this large show progress even when stderr is not a terminal, bytes. */
export const LARGE_INPUT_BYTES = 64 * 1024 * 1024;

/** Asset type used when --asset-type is not given: every column scored from the data alone. */
export const GENERIC_ASSET_TYPE = 'generic';

/** Name of the required time column (matched case-insensitively, surrounding spaces ignored). */
export const TIMESTAMP_COLUMN = 'timestamp';

/** Output columns after `timestamp`, `score` and the `score_<sensor>` columns, in order. */
export const TRAILING_COLUMNS = [
  'health',
  'prediction',
  'failure_mode',
  'severity',
  'probability',
  'predicted_failure',
  'predicted_failure_low',
  'predicted_failure_high',
  'episode_id',
  'quality',
] as const;

const OPTIONS = {
  input: { type: 'string', short: 'i' },
  output: { type: 'string', short: 'o' },
  'asset-type': { type: 'string' },
  'asset-id': { type: 'string' },
  config: { type: 'string' },
  progress: { type: 'boolean' },
  'no-progress': { type: 'boolean' },
} as const;

const USAGE = `Usage: pdm score --input FILE|- [--output FILE|-] [--asset-type TYPE] [--config FILE]
                 [--asset-id ID] [--progress | --no-progress]

Scores a CSV file of one asset's readings with the scoring core and writes one CSV row per
input row.

Options:
  -i, --input FILE|-     CSV to score; - reads stdin. Required.
  -o, --output FILE|-    where to write; - or omitted writes stdout. A file is written under
                         a temporary name and renamed when complete.
      --asset-type TYPE  asset type from the configuration (e.g. passenger_ev); its sensors'
                         ranges and failure modes apply. Default: generic (every column is a
                         sensor with no known limits, scored from the data alone).
      --config FILE      JSON configuration merged over the defaults and validated.
      --asset-id ID      asset id (part of prediction episode ids). Default: the input
                         file's name without extension, or "stdin".
      --progress         always show progress on stderr; --no-progress never. Default:
                         when stderr is a terminal or the input file is 64 MiB or more.
  -h, --help             this text.

Input: a header line, then one reading per line (RFC 4180: quoted fields may hold commas,
quotes as "" and line breaks). A "timestamp" column holds ISO 8601 (2026-03-07T12:30:00Z,
with an offset, or "2026-03-07 12:30:00" taken as UTC) or epoch numbers: below 1e11 seconds,
otherwise milliseconds. Every other column is a sensor: an empty cell means the sensor is
missing from that reading; text that is not a number is scored as NaN and reported as a
data-quality finding.

Output columns: timestamp (as given), score, score_<sensor> per sensor, health, prediction
(raised, escalated, updated, cleared or empty), failure_mode, severity, probability,
predicted_failure, predicted_failure_low, predicted_failure_high (ISO 8601 UTC), episode_id,
quality (data-quality findings as kind:sensor). A reading with several prediction events
lists them in the same order in each prediction column, separated by ";".

Scores: score_<sensor> is in [0, 1], calibrated on that sensor's own history: 0.5 or more
means the reading is rarer than the sensor has been (1e-5 a reading for a jump or a rare
value), whatever the sensor's noise or pattern, so one threshold serves every column;
score is the largest of them. The first 300 readings of a sensor are for learning (score
0); a warning on stderr names the sensors that never got past them. A value repeated for
20 readings and 30 minutes is a stuck sensor: a data-quality finding (quality column), not
an anomaly, and not scored.

Exit status: 0 done, 1 bad input, config or file, 2 bad usage.
`;

/** A problem with the user's input or files (not a bug): printed as is, exit code 1. */
class InputError extends Error {
  override readonly name = 'InputError';
}

/** The reader of our output went away (`pdm score ... | head`): stop quietly, like head's writer. */
class OutputClosed extends Error {
  override readonly name = 'OutputClosed';
}

/** The `pdm score` command. */
export const scoreCommand: Command = {
  usage: USAGE,
  async run(args, io) {
    const opts = parseOptions('score', args, OPTIONS);
    if (opts.input === undefined) {
      throw new UsageError('pdm score: --input is required (a CSV file, or - for stdin; see pdm score --help)');
    }
    if (opts.progress && opts['no-progress']) {
      throw new UsageError('pdm score: --progress and --no-progress exclude each other');
    }
    try {
      await scoreFile(
        {
          input: opts.input,
          output: opts.output ?? '-',
          assetType: opts['asset-type'] ?? GENERIC_ASSET_TYPE,
          assetId: opts['asset-id'] ?? defaultAssetId(opts.input),
          configFile: opts.config,
          progress: opts.progress ? true : opts['no-progress'] ? false : undefined,
        },
        io,
      );
      return 0;
    } catch (err) {
      if (err instanceof OutputClosed) return 0;
      if (err instanceof InputError) {
        io.stderr.write(`${err.message}\n`);
        return 1;
      }
      throw err;
    }
  },
};

interface ScoreOptions {
  input: string;
  output: string;
  assetType: string;
  assetId: string;
  configFile: string | undefined;
  /** undefined = decide from the terminal and the file size. */
  progress: boolean | undefined;
}

/** The asset id of an input without one: the file's name without extension, or "stdin" (also `pdm replay`'s CSV default). */
export function defaultAssetId(input: string): string {
  if (input === '-') return 'stdin';
  const base = basename(input);
  return base.slice(0, base.length - extname(base).length) || base;
}

const errorText = (err: unknown): string => (err instanceof Error ? err.message : String(err));

async function loadConfig(file: string | undefined): Promise<CompiledConfig> {
  if (file === undefined) return DEFAULT_CONFIG;
  try {
    // A configuration file of the services (its detection section) or a detection-only file.
    return await loadDetectionConfig(file);
  } catch (err) {
    if (!(err instanceof ServiceConfigError)) throw err;
    const issues = err.problems.map((p) => `  - ${p.startsWith(`${file}: `) ? p.slice(file.length + 2) : p}`).join('\n');
    throw new InputError(`pdm score: config ${file} is invalid (${err.problems.length} issue(s)):\n${issues}`);
  }
}

/** Opens the input; a file is checked up front so a typo fails before any output. */
async function openInput(input: string, stdin: Readable): Promise<{ stream: Readable; size: number | undefined }> {
  if (input === '-') return { stream: stdin, size: undefined };
  try {
    const st = await stat(input);
    if (st.isDirectory()) throw new Error('is a directory');
    return { stream: createReadStream(input, { highWaterMark: 256 * 1024 }), size: st.size };
  } catch (err) {
    throw new InputError(`pdm score: cannot read input ${input}: ${errorText(err)}`);
  }
}

interface Output {
  stream: Writable;
  /** Makes the output visible (renames the temporary file); called after the last row. */
  commit(): Promise<void>;
  /** Removes a half-written temporary file after a failure. */
  abort(): Promise<void>;
}

async function openOutput(output: string, stdout: Writable): Promise<Output> {
  if (output === '-') return { stream: stdout, commit: async () => {}, abort: async () => {} };
  // Written aside and renamed at the end, so a failed run never leaves a truncated result
  // that looks complete.
  const partial = `${output}.partial`;
  let handle;
  try {
    handle = await open(partial, 'w');
  } catch (err) {
    throw new InputError(`pdm score: cannot write output ${output}: ${errorText(err)}`);
  }
  const stream = handle.createWriteStream();
  return {
    stream,
    async commit() {
      stream.end();
      await once(stream, 'close');
      await rename(partial, output);
    },
    async abort() {
      stream.destroy();
      await rm(partial, { force: true });
    },
  };
}

/** Text of a sensor cell → value: number, ±Infinity, NaN for text (the core reports it). Also read by `pdm replay`'s CSV input. */
export function parseValue(cell: string): number {
  if (DECIMAL.test(cell)) return Number(cell);
  const lower = cell.toLowerCase();
  if (lower === 'inf' || lower === '+inf' || lower === 'infinity' || lower === '+infinity') return Infinity;
  if (lower === '-inf' || lower === '-infinity') return -Infinity;
  return NaN;
}
const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

const fmtNumber = (x: number): string => (Number.isFinite(x) ? String(Math.round(x * 1e6) / 1e6) : '');
const fmtTime = (ts: number | null): string => (ts === null || !Number.isFinite(ts) ? '' : new Date(ts).toISOString());
const joinEvents = (events: readonly PredictionEvent[], pick: (e: PredictionEvent) => string): string =>
  events.length === 0 ? '' : events.map(pick).join(';');
const fmtFinding = (f: QualityFinding): string => (f.sensor === undefined ? f.kind : `${f.kind}:${f.sensor}`);

async function scoreFile(o: ScoreOptions, io: CliIo): Promise<void> {
  const cfg = await loadConfig(o.configFile);
  let state: AssetState;
  try {
    state = newState(o.assetId, o.assetType, cfg);
  } catch (err) {
    if (err instanceof UnknownAssetTypeError) throw new InputError(`pdm score: ${err.message}`);
    throw err;
  }
  const inputName = o.input === '-' ? 'stdin' : o.input;
  const { stream: input, size } = await openInput(o.input, io.stdin);
  const out = await openOutput(o.output, io.stdout);
  const progressOn = o.progress ?? (io.stderr.isTTY === true || (size ?? 0) >= LARGE_INPUT_BYTES);
  const progress = new Progress(io.stderr, 'pdm score', size, progressOn, io.stderr.isTTY === true);

  let sensors: string[] = [];
  const sensorIndex = new Map<string, number>();
  let timestampIndex = -1;
  let width = 0;
  let rows = 0;
  let rowsWithFindings = 0;
  const warnedUnknown = new Set<string>();
  /** Per sensor column: valid values seen, and those scored (past the sensor's learning readings). */
  let valid: number[] = [];
  let scored: number[] = [];
  let pending = '';

  const onHeader = (fields: string[]): void => {
    const names = fields.map((f) => f.trim());
    timestampIndex = names.findIndex((n) => n.toLowerCase() === TIMESTAMP_COLUMN);
    if (timestampIndex < 0) {
      throw new InputError(
        `pdm score: ${inputName}: line 1: no "${TIMESTAMP_COLUMN}" column in the header (columns: ${names.join(', ')})`,
      );
    }
    const seen = new Set<string>();
    names.forEach((n, i) => {
      if (n === '') throw new InputError(`pdm score: ${inputName}: line 1: column ${i + 1} has no name`);
      if (seen.has(n)) throw new InputError(`pdm score: ${inputName}: line 1: column "${n}" appears twice`);
      seen.add(n);
    });
    sensors = names.filter((_, i) => i !== timestampIndex);
    sensors.forEach((name, i) => sensorIndex.set(name, i));
    valid = sensors.map(() => 0);
    scored = sensors.map(() => 0);
    if (sensors.length === 0) {
      throw new InputError(`pdm score: ${inputName}: line 1: no sensor columns besides "${TIMESTAMP_COLUMN}"`);
    }
    width = names.length;
    pending += csvLine(['timestamp', 'score', ...sensors.map((s) => `score_${s}`), ...TRAILING_COLUMNS]);
  };

  const onRow = (fields: string[], line: number): void => {
    if (fields.length !== width) {
      throw new InputError(`pdm score: ${inputName}: line ${line}: ${fields.length} fields, the header has ${width}`);
    }
    const rawTs = fields[timestampIndex]!;
    const ts = parseTimestamp(rawTs);
    if (ts === undefined) {
      throw new InputError(
        `pdm score: ${inputName}: line ${line}: unparseable timestamp "${rawTs}" (expected ISO 8601 such as ` +
          `2026-03-07T12:30:00Z or "2026-03-07 12:30:00" (UTC), or epoch seconds or milliseconds)`,
      );
    }
    const values: Record<string, number> = {};
    for (let i = 0, s = 0; i < fields.length; i++) {
      if (i === timestampIndex) continue;
      const cell = fields[i]!.trim();
      if (cell !== '') values[sensors[s]!] = parseValue(cell);
      s++;
    }
    const reading: Reading = { assetId: o.assetId, assetType: o.assetType, ts, values };
    const step: Step<AssetState> = score(state, reading, cfg);
    state = step.state;
    rows++;
    pending += formatRow(rawTs, step);
    if (step.findings.length > 0) {
      rowsWithFindings++;
      for (const f of step.findings) {
        if (f.kind === 'unknown_sensor' && f.sensor !== undefined && !warnedUnknown.has(f.sensor)) {
          warnedUnknown.add(f.sensor);
          io.stderr.write(
            `pdm score: warning: column "${f.sensor}" is not a sensor of asset type ${o.assetType}: ${f.detail}\n`,
          );
        }
      }
    }
  };

  const formatRow = (rawTs: string, step: Step<unknown>): string => {
    const cells: string[] = [rawTs, fmtNumber(step.score)];
    const first = cells.length;
    for (let i = 0; i < sensors.length; i++) cells.push('');
    for (const sc of step.sensors) {
      const i = sensorIndex.get(sc.sensor);
      if (i === undefined) continue;
      cells[first + i] = fmtNumber(sc.score);
      valid[i]!++;
      if (!sc.learning) scored[i]!++;
    }
    const p = step.predictions;
    cells.push(
      fmtNumber(step.health),
      joinEvents(p, (e) => e.kind),
      joinEvents(p, (e) => e.failureMode),
      joinEvents(p, (e) => e.severity),
      joinEvents(p, (e) => fmtNumber(e.probability)),
      joinEvents(p, (e) => fmtTime(e.predictedFailureTs)),
      joinEvents(p, (e) => fmtTime(e.predictedFailureLowTs)),
      joinEvents(p, (e) => fmtTime(e.predictedFailureHighTs)),
      joinEvents(p, (e) => e.episodeId),
      step.findings.map(fmtFinding).join(';'),
    );
    return csvLine(cells);
  };

  const csv = withHeader(onHeader, onRow);
  const reader = new CsvReader(csv.sink);

  // Write what the last chunk produced; wait for 'drain' when the consumer is slower than us
  // (that pause is what keeps memory flat on a slow pipe). once() rejects on 'error'.
  let outError: Error | undefined;
  // Without a listener a write error (EPIPE, ENOSPC) would be an uncaught exception.
  const onOutError = (err: Error): void => {
    outError ??= err;
  };
  out.stream.on('error', onOutError);
  const flush = async (): Promise<void> => {
    try {
      if (outError) throw outError;
      if (pending === '') return;
      const text = pending;
      pending = '';
      if (!out.stream.write(text)) await once(out.stream, 'drain');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EPIPE') throw new OutputClosed('output closed');
      throw new InputError(`pdm score: cannot write output ${o.output === '-' ? 'stdout' : o.output}: ${errorText(err)}`);
    }
  };

  const decoder = new StringDecoder('utf8');
  let bytes = 0;
  try {
    try {
      for await (const chunk of input) {
        const buf: Buffer | string = chunk as Buffer | string;
        bytes += typeof buf === 'string' ? Buffer.byteLength(buf) : buf.length;
        reader.push(typeof buf === 'string' ? buf : decoder.write(buf));
        await flush();
        progress.tick(rows, bytes);
      }
    } catch (err) {
      if (err instanceof InputError || err instanceof OutputClosed) throw err;
      if (err instanceof CsvSyntaxError) throw new InputError(`pdm score: ${inputName}: ${err.message}`);
      if (isStreamError(err)) throw new InputError(`pdm score: cannot read input ${inputName}: ${errorText(err)}`);
      throw err;
    }
    try {
      reader.push(decoder.end());
      reader.end();
    } catch (err) {
      if (err instanceof CsvSyntaxError) throw new InputError(`pdm score: ${inputName}: ${err.message}`);
      throw err;
    }
    if (!csv.headerSeen) throw new InputError(`pdm score: ${inputName}: empty input, expected a header line`);
    await flush();
    await out.commit();
  } catch (err) {
    await out.abort();
    throw err;
  } finally {
    out.stream.off('error', onOutError);
    // Stop reading a file we gave up on (a stdin we do not own is left alone).
    if (input !== io.stdin) input.destroy();
  }
  // A file shorter than the learning period scores 0 everywhere: say so, rather than let an
  // all-zero score column pass for a healthy series.
  const unscored = sensors.flatMap((_, i) => (valid[i]! > 0 && scored[i] === 0 ? [i] : []));
  if (unscored.length > 0) {
    io.stderr.write(
      `pdm score: warning: no anomaly score for ${unscored.map((i) => `"${sensors[i]}"`).join(', ')}: a sensor learns from its first ` +
        `${cfg.detector.learningReadings} valid readings (score 0) and ${unscored.length === 1 ? 'it had' : 'they had'} ${unscored.map((i) => valid[i]).join(', ')}\n`,
    );
  }
  const findings = rowsWithFindings > 0 ? `, ${rowsWithFindings} rows with data-quality findings` : '';
  progress.finish(rows, findings, o.progress === true);
}

/** An error from the operating system (ENOENT, EIO, EPIPE...) rather than from our code. */
function isStreamError(err: unknown): boolean {
  return err instanceof Error && typeof (err as NodeJS.ErrnoException).code === 'string';
}
