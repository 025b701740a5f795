/**
 * Every environment variable a `pdm` service reads, in one list (from the settings table,
 * services/config/settings.ts): what deployment files (compose.yaml, infra/deploy/) may set,
 * checked by infra/deploy/manifests.test.ts, and kept honest by env-vars.test.ts, which
 * compares it with the variables the code reads.
 */

import { CONFIG_FILE_ENV, SETTINGS } from '../config/settings.ts';

/** One variable: its name and what it sets. */
export interface EnvVar {
  name: string;
  /** What it sets, with its unit and default. */
  description: string;
}

export const SERVICE_ENV_VARS: readonly EnvVar[] = Object.freeze([
  ...SETTINGS.map((s) => ({ name: s.env, description: `${s.description}${s.default ? ` (default ${s.default})` : ''}${s.secret ? ' (a secret)' : ''}` })),
  { name: CONFIG_FILE_ENV, description: 'the configuration file (JSON, the settings by key; see the README reference), like --config FILE' },
]);

const NAMES: ReadonlySet<string> = new Set(SERVICE_ENV_VARS.map((v) => v.name));

/** True when a `pdm` service reads `name`. */
export function isServiceEnvVar(name: string): boolean {
  return NAMES.has(name);
}
