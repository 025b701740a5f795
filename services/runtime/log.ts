/**
 * Structured logs through pino, on stderr: JSON with PDM_LOG_FORMAT=json (one object per line,
 * for log shippers: level as a word, ISO time, `component`, the event's fields, an `err` field
 * serialized with its stack), readable single lines otherwise (pino-pretty). Level from
 * PDM_LOG_LEVEL (default info).
 *
 * Secrets never reach a log line: fields named like a credential (password, token, secret,
 * authorization, at the top level or one level down, e.g. `influx.token`) are redacted by
 * pino before anything is written, whatever the call site passed.
 */
import pino from 'pino';
import pretty from 'pino-pretty';

const LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;
export type LogLevel = (typeof LEVELS)[number];

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(component: string): Logger;
}

/** Field names that hold credentials: redacted at the top level and one level down. */
export const SECRET_FIELDS = Object.freeze([
  'password',
  'token',
  'secret',
  'clientSecret',
  'client_secret',
  'securityToken',
  'accessToken',
  'access_token',
  'refreshToken',
  'refresh_token',
  'authorization',
  'Authorization',
  'apiKey',
  'sasl',
]);

const REDACT_PATHS = SECRET_FIELDS.flatMap((f) => [f, `*.${f}`]);

function envLevel(): LogLevel {
  const raw = process.env.PDM_LOG_LEVEL;
  return raw && (LEVELS as readonly string[]).includes(raw) ? (raw as LogLevel) : 'info';
}

/** One root per (level, format): components are its children, so every line goes through one stream. */
const roots = new Map<string, pino.Logger>();

function root(level: LogLevel, json: boolean): pino.Logger {
  const key = `${level}|${json}`;
  let r = roots.get(key);
  if (r) return r;
  const options: pino.LoggerOptions = {
    level,
    base: undefined,
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
  };
  // process.stderr rather than a raw fd 2: on Linux its writes are synchronous for files,
  // TTYs and pipes alike (nothing lost at exit), and every line goes through one
  // interceptable stream, which is how a test proves no secret reaches the logs.
  const stream = json
    ? process.stderr
    : pretty({
        destination: process.stderr,
        sync: true,
        colorize: false,
        singleLine: true,
        translateTime: "UTC:yyyy-mm-dd'T'HH:MM:ss.l'Z'",
        ignore: 'component',
        messageFormat: '[{component}] {msg}',
      });
  r = pino(options, stream);
  roots.set(key, r);
  return r;
}

function wrap(p: pino.Logger, component: string, level: LogLevel, json: boolean): Logger {
  const emit = (lvl: 'debug' | 'info' | 'warn' | 'error') => (msg: string, fields?: Record<string, unknown>) => {
    if (fields) p[lvl](fields, msg);
    else p[lvl](msg);
  };
  return {
    debug: emit('debug'),
    info: emit('info'),
    warn: emit('warn'),
    error: emit('error'),
    child: (c) => createLogger(`${component}.${c}`, level, json),
  };
}

export function createLogger(component: string, level: LogLevel = envLevel(), json = process.env.PDM_LOG_FORMAT === 'json'): Logger {
  return wrap(root(level, json).child({ component }), component, level, json);
}
