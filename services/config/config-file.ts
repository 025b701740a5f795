/**
 * The configuration file: JSON with one section per part of the pipeline (the keys of
 * settings.ts) and a `detection` section (the scoring core's configuration, services/core/config.ts):
 *
 *   { "kafka": { "brokers": ["kafka-0:9092"], "partitions": 12 },
 *     "influx": { "url": "https://influx.example.com", "bucket": "pdm" },
 *     "detection": { "detector": { "raiseThreshold": 0.6 } } }
 *
 * The environment overrides the file, one variable per setting (PDM_*), so a container can
 * keep one file in a ConfigMap and change a value per deployment. Credentials are refused in
 * the file: they come from the environment or a mounted file (`PDM_*_FILE`).
 *
 * A file without any section (`version`, `detector`, `assetTypes` at the top) is a detection
 * configuration of earlier releases, and is read as the `detection` section.
 *
 * Parsing names every problem at once; it does not validate the values themselves, which
 * is left to the code that reads each setting (check.ts runs all of it).
 */
import { readFile } from 'node:fs/promises';
import { ServiceConfigError } from '../runtime/errors.ts';
import { SETTINGS, settingByKey, type Setting } from './settings.ts';

/** A parsed configuration file. */
export interface ConfigFile {
  path: string;
  /** The file's settings as the environment would spell them, by variable name. */
  settings: ReadonlyMap<string, string>;
  /** The `detection` section, as written (merged over the defaults when compiled); undefined: none. */
  detection: unknown;
  /** `detection-only`: a file of earlier releases, holding just the detection configuration. */
  format: 'sections' | 'detection-only';
}

/** The detection section's own top-level keys (core/config.ts). */
const DETECTION_KEYS = new Set(['version', 'detector', 'assetTypes']);
export const DETECTION_SECTION = 'detection';
const SECTIONS: readonly string[] = [...new Set(SETTINGS.map((s) => s.key.split('.')[0]!)), DETECTION_SECTION];

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const describe = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v === 'object' ? 'an object' : `${typeof v} ${JSON.stringify(v)}`);

/** The closest known name, when one is near enough to be a typo. */
function suggest(name: string, known: readonly string[]): string {
  const distance = (a: string, b: string): number => {
    const d = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
      let prev = d[0]!;
      d[0] = i;
      for (let j = 1; j <= b.length; j++) {
        const cur = d[j]!;
        d[j] = Math.min(d[j]! + 1, d[j - 1]! + 1, prev + (a[i - 1]!.toLowerCase() === b[j - 1]!.toLowerCase() ? 0 : 1));
        prev = cur;
      }
    }
    return d[b.length]!;
  };
  const best = known.map((k) => ({ k, d: distance(name, k) })).sort((x, y) => x.d - y.d)[0];
  return best && best.d <= Math.max(2, Math.floor(name.length / 4)) ? ` (did you mean ${best.k}?)` : '';
}

/** One value as its environment variable would hold it, or a problem. */
function asEnvValue(s: Setting, v: unknown): string | { problem: string } {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' && s.kind === 'number') return Number.isFinite(v) ? String(v) : { problem: `must be a finite number, got ${v}` };
  if (typeof v === 'boolean' && s.kind === 'flag') return v ? 'on' : 'off';
  if (Array.isArray(v) && s.kind === 'list') {
    if (v.every((x) => typeof x === 'string' && x.trim() !== '' && !x.includes(','))) return v.join(',');
    return { problem: 'must be a list of non-empty strings' };
  }
  const want = s.kind === 'number' ? 'a number' : s.kind === 'flag' ? 'true, false, "on" or "off"' : s.kind === 'list' ? 'a list of strings' : 'a string';
  return { problem: `must be ${want}, got ${describe(v)}` };
}

/** Parses a configuration file's text; ServiceConfigError naming every problem (each with the file and key). */
export function parseConfigFile(text: string, path: string): ConfigFile {
  const { file, problems } = parseLeniently(text, path);
  if (problems.length > 0) throw new ServiceConfigError(problems);
  return file;
}

/**
 * Parses what can be parsed and names every problem: the file's usable settings and its
 * detection section come back with the problems, so that a check reports those of the
 * detection section and of the environment in the same run.
 */
export function parseLeniently(text: string, path: string): { file: ConfigFile; problems: string[] } {
  try {
    return { file: parseSections(text, path), problems: [] };
  } catch (err) {
    if (err instanceof PartialConfig) return { file: err.file, problems: err.problems };
    if (err instanceof ServiceConfigError) return { file: { path, settings: new Map(), detection: undefined, format: 'sections' }, problems: err.problems };
    throw err;
  }
}

/** A file with problems in some sections: the rest of it, and the problems. */
class PartialConfig extends Error {
  constructor(readonly file: ConfigFile, readonly problems: string[]) {
    super(problems.join('\n'));
  }
}

function parseSections(text: string, path: string): ConfigFile {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ServiceConfigError([`${path}: not JSON: ${(err as Error).message}`]);
  }
  if (!isObj(raw)) throw new ServiceConfigError([`${path}: must be a JSON object of sections (${SECTIONS.join(', ')}), got ${describe(raw)}`]);
  // Without any section, the file is a detection configuration of earlier releases (whose
  // own unknown keys compileConfig names).
  const keys = Object.keys(raw);
  if (keys.length > 0 && !keys.some((k) => SECTIONS.includes(k))) return { path, settings: new Map(), detection: raw, format: 'detection-only' };

  const problems: string[] = [];
  const settings = new Map<string, string>();
  let detection: unknown;
  for (const [section, body] of Object.entries(raw)) {
    if (section === DETECTION_SECTION) {
      detection = body;
      continue;
    }
    if (!SECTIONS.includes(section)) {
      const hint = DETECTION_KEYS.has(section) ? ` (the detection configuration's ${section} goes inside "detection")` : suggest(section, SECTIONS);
      problems.push(`${path}: ${section}: unknown section${hint}; the sections are ${SECTIONS.join(', ')}`);
      continue;
    }
    if (!isObj(body)) {
      problems.push(`${path}: ${section}: must be an object of settings, got ${describe(body)}`);
      continue;
    }
    const known = SETTINGS.filter((s) => s.key.startsWith(`${section}.`)).map((s) => s.key.slice(section.length + 1));
    for (const [name, value] of Object.entries(body)) {
      const key = `${section}.${name}`;
      const s = settingByKey(key);
      if (!s) {
        problems.push(`${path}: ${key}: unknown setting${suggest(name, known)}; ${section} has ${known.join(', ')}`);
        continue;
      }
      if (s.secret) {
        const fileVar = settingByKey(`${key}File`)?.env;
        problems.push(`${path}: ${key}: a credential does not belong in the configuration file; set ${s.env}${fileVar ? ` or ${fileVar} (a mounted secret)` : ''} instead`);
        continue;
      }
      if (value === null) continue; // null: not set here, as if absent
      const v = asEnvValue(s, value);
      if (typeof v === 'string') settings.set(s.env, v);
      else problems.push(`${path}: ${key}: ${v.problem}`);
    }
  }
  const file: ConfigFile = { path, settings, detection, format: 'sections' };
  if (problems.length > 0) throw new PartialConfig(file, problems);
  return file;
}

/** Reads a configuration file's text; ServiceConfigError when it cannot. */
async function readText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ServiceConfigError([`${path}: cannot read it (${code === 'ENOENT' ? 'no such file' : (code ?? (err as Error).message)})`]);
  }
}

/** Reads and parses a configuration file; ServiceConfigError naming every problem. */
export async function readConfigFile(path: string): Promise<ConfigFile> {
  return parseConfigFile(await readText(path), path);
}

/** Reads a configuration file, returning what is usable and every problem (see parseLeniently). */
export async function readConfigFileLeniently(path: string): Promise<{ file?: ConfigFile; problems: string[] }> {
  let text: string;
  try {
    text = await readText(path);
  } catch (err) {
    if (err instanceof ServiceConfigError) return { problems: err.problems };
    throw err;
  }
  return parseLeniently(text, path);
}

/** Where a setting's value came from: the file, or the environment over it. */
export interface AppliedSettings {
  fromFile: string[];
  /** Set in the file and in the environment: the environment's value is used. */
  overridden: string[];
}

/**
 * Puts the file's settings into `env` under their variable names, leaving every variable the
 * environment already sets as it is (the environment overrides the file).
 */
export function applySettings(file: ConfigFile, env: NodeJS.ProcessEnv): AppliedSettings {
  const out: AppliedSettings = { fromFile: [], overridden: [] };
  for (const [name, value] of file.settings) {
    if (env[name] !== undefined && env[name]!.trim() !== '') out.overridden.push(name);
    else {
      env[name] = value;
      out.fromFile.push(name);
    }
  }
  return out;
}
