/**
 * A small structured logger: one line per event on stderr, human-readable by default and
 * JSON with PDM_LOG_FORMAT=json (for log shippers). Level from PDM_LOG_LEVEL (default info).
 */
const LEVELS = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 } as const;
export type LogLevel = keyof typeof LEVELS;

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(component: string): Logger;
}

function envLevel(): LogLevel {
  const raw = process.env.PDM_LOG_LEVEL;
  return raw && raw in LEVELS ? (raw as LogLevel) : 'info';
}

export function createLogger(component: string, level: LogLevel = envLevel(), json = process.env.PDM_LOG_FORMAT === 'json'): Logger {
  const min = LEVELS[level];
  const emit = (lvl: Exclude<LogLevel, 'silent'>, msg: string, fields?: Record<string, unknown>) => {
    if (LEVELS[lvl] < min) return;
    const at = new Date().toISOString();
    if (json) {
      process.stderr.write(`${JSON.stringify({ at, level: lvl, component, msg, ...fields })}\n`);
    } else {
      const extra = fields && Object.keys(fields).length ? ` ${JSON.stringify(fields)}` : '';
      process.stderr.write(`${at} ${lvl.toUpperCase().padEnd(5)} [${component}] ${msg}${extra}\n`);
    }
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (c) => createLogger(`${component}.${c}`, level, json),
  };
}
