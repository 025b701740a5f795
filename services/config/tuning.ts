/**
 * The service settings that are not connections: scorer checkpoints and state expiry, the
 * case opener's service window, health and logs. Each reader takes the (merged) environment,
 * leaves unset values to the service's own defaults and names every bad value at once
 * (ServiceConfigError), so `pdm config check` and a service's start report the same things.
 */
import { ServiceConfigError } from '../runtime/errors.ts';

type Env = NodeJS.ProcessEnv;

/** A number reader that collects problems instead of throwing at the first. */
function numbers(env: Env, problems: string[]) {
  return (name: string, rule: { integer?: boolean; min: number; max?: number; unit: string }): number | undefined => {
    const raw = env[name]?.trim();
    if (raw === undefined || raw === '') return undefined;
    const v = Number(raw);
    if (!Number.isFinite(v) || v < rule.min || (rule.max !== undefined && v > rule.max) || (rule.integer && !Number.isInteger(v))) {
      const range = rule.max !== undefined ? `from ${rule.min} to ${rule.max}` : `>= ${rule.min}`;
      problems.push(`${name}=${raw}: must be ${rule.integer ? 'an integer' : 'a number'} ${range} (${rule.unit})`);
      return undefined;
    }
    return v;
  };
}

function onOff(env: Env, name: string, problems: string[]): boolean | undefined {
  const raw = env[name]?.trim();
  if (!raw) return undefined;
  const v = raw.toLowerCase();
  if (v === 'on' || v === 'true' || v === '1') return true;
  if (v === 'off' || v === 'false' || v === '0') return false;
  problems.push(`${name}=${raw}: must be on or off`);
  return undefined;
}

const done = <T>(problems: string[], value: T): T => {
  if (problems.length > 0) throw new ServiceConfigError(problems);
  return value;
};

const defined = <T extends object>(o: T): Partial<T> =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;

export interface ScorerTuning {
  checkpointIntervalMs: number;
  checkpointMaxReadings: number;
  stateTtlMs: number;
  scoringThreads: number;
}

/** The scorer's checkpoint and state-expiry settings that are set (also read by `pdm replay`, to expire states as the scorer does). */
export function scorerTuning(env: Env): Partial<ScorerTuning> {
  const problems: string[] = [];
  const num = numbers(env, problems);
  return done(problems, defined({
    checkpointIntervalMs: num('PDM_SCORER_CHECKPOINT_MS', { min: 0, unit: 'ms' }),
    checkpointMaxReadings: num('PDM_SCORER_CHECKPOINT_READINGS', { integer: true, min: 1, unit: 'readings' }),
    stateTtlMs: num('PDM_SCORER_STATE_TTL_MS', { integer: true, min: 1_000, unit: 'ms' }),
    scoringThreads: num('PDM_SCORER_THREADS', { integer: true, min: 0, max: 64, unit: 'threads' }),
  }));
}

export interface CaseOpenerTuning {
  serviceMarginHours: number;
  minimumServiceWindowHours: number;
  fieldService: boolean;
}

/** The case opener's service-window and Field Service settings that are set. */
export function caseOpenerTuning(env: Env): Partial<CaseOpenerTuning> {
  const problems: string[] = [];
  const num = numbers(env, problems);
  return done(problems, defined({
    serviceMarginHours: num('PDM_CASE_SERVICE_MARGIN_HOURS', { min: 0, unit: 'hours' }),
    minimumServiceWindowHours: num('PDM_CASE_MIN_SERVICE_WINDOW_HOURS', { min: 0, unit: 'hours' }),
    fieldService: onOff(env, 'PDM_SF_FIELD_SERVICE', problems),
  }));
}

export interface RuntimeSettings {
  /** /healthz fails once a dependency has been down this long, ms. */
  unhealthyAfterMs: number;
  /** Address of /metrics, /healthz and /readyz. */
  metricsHost: string;
}

const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'];
const LOG_FORMATS = ['text', 'json'];

/** Health, metrics address and log settings, with their defaults. */
export function runtimeSettings(env: Env): RuntimeSettings {
  const problems: string[] = [];
  const num = numbers(env, problems);
  const choice = (name: string, allowed: readonly string[]) => {
    const raw = env[name]?.trim();
    if (raw && !allowed.includes(raw)) problems.push(`${name}=${raw}: must be one of ${allowed.join(', ')}`);
  };
  choice('PDM_LOG_LEVEL', LOG_LEVELS);
  choice('PDM_LOG_FORMAT', LOG_FORMATS);
  choice('PDM_KAFKA_LOG', ['debug']);
  return done(problems, {
    unhealthyAfterMs: num('PDM_UNHEALTHY_AFTER_MS', { integer: true, min: 1_000, unit: 'ms' }) ?? 60_000,
    metricsHost: env.PDM_METRICS_HOST?.trim() || '127.0.0.1',
  });
}
