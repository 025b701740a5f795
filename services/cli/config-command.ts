/**
 * `pdm config check [FILE]`: validates a configuration (the file, or PDM_CONFIG_FILE, with the
 * environment over it) exactly as a service's start does, without connecting anywhere, and
 * says where each value came from. `pdm config reference`: every setting, its file key,
 * variable and default (the README's table; `--write-readme FILE` refreshes it there).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { loadConfiguration, type Configuration } from '../config/load.ts';
import { referenceMarkdown, withReference } from '../config/reference.ts';
import { settingByEnv } from '../config/settings.ts';
import { ServiceConfigError } from '../runtime/errors.ts';
import { parseOptions, UsageError } from './args.ts';
import type { CliIo, Command } from './command.ts';

const USAGE = `Usage: pdm config check [FILE]
       pdm config reference [--write-readme FILE]

check      validates a configuration as a service's start would, without connecting
           anywhere: FILE (default: PDM_CONFIG_FILE, else none), the PDM_* environment over
           it, and the detection section; names every problem at once and where each
           value came from. Exit status 0 valid, 1 invalid.
reference  prints every setting: its key in the file, its environment variable, its default
           and what it sets (Markdown). --write-readme FILE replaces the table between the
           config-reference markers of FILE (the project's README.md).

The file is JSON with one section per part ("kafka", "registry", "influx", "salesforce",
"caseOpener", "scorer", "service", "log") and "detection"; the environment overrides it.
Credentials are refused in the file: give them in the environment or a mounted file (_FILE).
`;

export const configCommand: Command = {
  usage: USAGE,
  async run(args: string[], io: CliIo): Promise<number> {
    const [sub, ...rest] = args;
    if (sub === 'check') return check(rest, io);
    if (sub === 'reference') return reference(rest, io);
    throw new UsageError(sub === undefined ? 'pdm config: say check or reference (see pdm config --help)' : `pdm config: unknown subcommand '${sub}' (see pdm config --help)`);
  },
};

async function check(args: string[], io: CliIo): Promise<number> {
  if (args.length > 1 || args[0]?.startsWith('-')) throw new UsageError(`pdm config check: takes one FILE at most (see pdm config --help)`);
  // A copy: checking must not change this process's environment.
  const env = { ...process.env };
  let config: Configuration;
  try {
    config = await loadConfiguration(args[0], env);
  } catch (err) {
    if (!(err instanceof ServiceConfigError)) throw err;
    io.stderr.write(`pdm config check: invalid configuration (${err.problems.length} problem${err.problems.length === 1 ? '' : 's'}):\n${err.problems.map((p) => `  - ${p}`).join('\n')}\n`);
    return 1;
  }
  io.stdout.write(summary(config, env));
  return 0;
}

/** What a valid configuration amounts to, with where each set value came from; no secret is printed. */
function summary(c: Configuration, env: NodeJS.ProcessEnv): string {
  const lines: string[] = [];
  const keyOf = (name: string) => settingByEnv(name)?.key ?? name;
  if (c.file) {
    lines.push(`${c.file.path}: valid${c.file.format === 'detection-only' ? ' (a detection-only file of earlier releases: connections come from the environment)' : ''}`);
    const fromFile = c.applied!.fromFile.map(keyOf);
    lines.push(`  from the file: ${fromFile.length ? fromFile.join(', ') : 'no settings'}${c.file.detection !== undefined ? ', and the detection section' : ''}`);
    if (c.applied!.overridden.length) lines.push(`  the environment overrides the file's: ${c.applied!.overridden.map((n) => `${keyOf(n)} (${n})`).join(', ')}`);
  } else {
    lines.push('valid (no configuration file: the environment over the defaults)');
  }
  const fromEnv = Object.keys(env).filter((n) => settingByEnv(n) && env[n]?.trim() && !c.applied?.fromFile.includes(n) && !c.applied?.overridden.includes(n));
  if (fromEnv.length) lines.push(`  from the environment: ${fromEnv.sort().join(', ')}`);
  const e = c.env;
  const sec = [env.PDM_KAFKA_TLS === 'on' ? 'TLS' : '', env.PDM_KAFKA_SASL_MECHANISM?.trim() ? `SASL ${env.PDM_KAFKA_SASL_MECHANISM.trim()}` : ''].filter(Boolean).join(', ');
  lines.push(`  Kafka: ${e.brokers.join(',')}${sec ? ` (${sec})` : ''}; topic prefix "${e.topicPrefix}"; ${e.partitions} partitions; session timeout ${e.sessionTimeoutMs} ms`);
  lines.push(`  schema registry: ${e.registryUrl}`);
  lines.push(`  InfluxDB: ${e.influx.url}, org ${e.influx.org}, bucket ${e.influx.bucket}`);
  lines.push(`  Salesforce: ${e.salesforce.loginUrl}, ${e.salesforce.authFlow ?? 'password'} flow, API ${e.salesforce.apiVersion}`);
  const types = [...c.cfg.assetTypes.keys()];
  lines.push(`  detection: version ${c.cfg.version}; ${types.length} asset types (${types.join(', ')}); raise threshold ${c.cfg.detector.raiseThreshold}`);
  return `${lines.join('\n')}\n`;
}

async function reference(args: string[], io: CliIo): Promise<number> {
  const opts = parseOptions('config reference', args, { 'write-readme': { type: 'string' } });
  const file = opts['write-readme'];
  if (file === undefined) {
    io.stdout.write(`${referenceMarkdown()}\n`);
    return 0;
  }
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    io.stderr.write(`pdm config reference: cannot read ${file}: ${(err as Error).message}\n`);
    return 1;
  }
  const next = withReference(text);
  if (next === undefined) {
    io.stderr.write(`pdm config reference: ${file} has no config-reference markers\n`);
    return 1;
  }
  if (next !== text) await writeFile(file, next);
  io.stdout.write(`${file}: ${next === text ? 'already current' : 'reference table updated'}\n`);
  return 0;
}
