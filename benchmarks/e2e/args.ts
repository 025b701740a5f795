/**
 * Options of `npm run bench:e2e`, read once from the command line; a bad value stops the
 * run at once with the option named (exit code 2).
 */
import { cpus } from 'node:os';

const argv = process.argv.slice(2);

function numArg(name: string, fallback: number, min: number): number {
  const i = argv.indexOf(name);
  if (i < 0) return fallback;
  const v = Number(argv[i + 1]);
  if (!Number.isFinite(v) || v < min) {
    process.stderr.write(`e2e.bench: ${name} needs a number ≥ ${min}, got ${String(argv[i + 1])}\n`);
    process.exit(2);
  }
  return v;
}

const known = new Set(['--json', '--readings', '--rate', '--seconds', '--warmup', '--assets', '--throughput-assets', '--learned', '--instances', '--latency-runs', '--pipeline-readings', '--restore-assets', '--skip']);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i]!;
  if (!a.startsWith('--')) continue;
  if (!known.has(a)) {
    process.stderr.write(`e2e.bench: unknown option ${a} (known: ${[...known].join(', ')})\n`);
    process.exit(2);
  }
}

const skipIndex = argv.indexOf('--skip');
const SKIP = new Set(skipIndex >= 0 ? (argv[skipIndex + 1] ?? '').split(',').filter(Boolean) : []);
const PHASES = ['latency', 'throughput', 'sink', 'pipeline', 'instances', 'restore'] as const;
for (const s of SKIP) {
  if (!(PHASES as readonly string[]).includes(s)) {
    process.stderr.write(`e2e.bench: --skip takes a comma-separated list of ${PHASES.join(', ')}; got ${s}\n`);
    process.exit(2);
  }
}

export type Phase = (typeof PHASES)[number];

/** Partitions of every topic (the product's default, DEFAULT_PARTITIONS). */
export const PARTITIONS = 6;

export const OPTS = Object.freeze({
  json: argv.includes('--json'),
  /** Readings of the throughput and sink phases. */
  readings: Math.floor(numArg('--readings', 200_000, 1_000)),
  /** Readings of the whole-pipeline rate. */
  pipelineReadings: Math.floor(numArg('--pipeline-readings', 200_000, 1_000)),
  /** Produce rate of the latency phase, readings/s. */
  rate: numArg('--rate', 5_000, 1),
  /** Measured latency window of each run, s. */
  seconds: numArg('--seconds', 12, 1),
  /** Latency warm-up of each run, s: produced at the rate but left out of the percentiles. */
  warmup: numArg('--warmup', 3, 0),
  /** Latency runs, each with fresh processes and topics (their spread is the stability). */
  latencyRuns: Math.floor(numArg('--latency-runs', 5, 1)),
  /** passenger_ev assets of the fleet (one reading per asset per simulated minute). */
  assets: Math.floor(numArg('--assets', 1_000, 1)),
  /**
   * Assets of the throughput phase: fewer, so that each is past the core's learning period
   * (300 readings) for most of the measured readings, as a fleet in service is.
   */
  throughputAssets: Math.floor(numArg('--throughput-assets', 200, 1)),
  /** Readings per asset scored before the throughput measurement starts (every asset past learning). */
  learned: Math.floor(numArg('--learned', 400, 0)),
  /** `pdm scorer` processes of the horizontal-scaling figure; default: the machine's cores. */
  instances: Math.floor(numArg('--instances', Math.min(cpus().length, PARTITIONS), 1)),
  /** Assets whose states the restore phase loads back from the changelog. */
  restoreAssets: Math.floor(numArg('--restore-assets', 50_000, 100)),
  skip: SKIP as ReadonlySet<string>,
});

/** Targets of issue 11 (and issue 4's latency target, kept). */
export const TARGETS = Object.freeze({
  scorerOverPassthroughMin: 0.8,
  sinkOverBareMin: 0.5,
  pipelineReadingsPerSecMin: 20_000,
  p99VisibleMsMax: 2_000,
  p99MsMax: 100,
  atRate: 5_000,
});

export const runs = (phase: Phase): boolean => !OPTS.skip.has(phase);
