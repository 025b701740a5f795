/**
 * Entry point of `pdm`, the product's command line (bin.mjs loads this file through tsx;
 * `tsx services/cli/main.ts <command>` works too). It holds the registry of subcommands;
 * each command lives in its own file and is imported only when invoked, so `pdm score`
 * never loads kafkajs and `pdm --help` loads no command at all.
 *
 * Adding a command = one entry in {@link COMMANDS} plus a file exporting a `Command`
 * (see command.ts).
 */
import { runCli, type CommandRegistry } from './dispatch.ts';
import { dropKnownWarnings } from './warnings.ts';

dropKnownWarnings();

/** Subcommands by name, in the order `pdm --help` lists them. */
export const COMMANDS: CommandRegistry = {
  score: {
    summary: 'score a CSV file of readings with the scoring core (backfill, threshold tuning)',
    load: async () => (await import('./score.ts')).scoreCommand,
  },
  replay: {
    summary: 'shadow replay: re-score history with a candidate configuration and show the cases it would open, update or not open',
    load: async () => (await import('./replay-command.ts')).replayCommand,
  },
  config: {
    summary: 'check a configuration without starting anything (config check FILE), or list every setting (config reference)',
    load: async () => (await import('./config-command.ts')).configCommand,
  },
  demo: {
    summary: 'run the whole pipeline on the local stack with a simulated fleet and print a summary',
    load: async () => (await import('./demo-command.ts')).demoCommand,
  },
  scorer: {
    summary: 'run the exactly-once scoring service on telemetry.readings',
    load: async () => (await import('./scorer-command.ts')).scorerCommand,
  },
  'influx-sink': {
    summary: 'run the InfluxDB sink for readings, scores and predictions',
    load: async () => (await import('./sink-command.ts')).sinkCommand,
  },
  'case-opener': {
    summary: 'run the Salesforce case opener for failure predictions',
    load: async () => (await import('./case-opener-command.ts')).caseOpenerCommand,
  },
  web: {
    summary: 'serve the fleet view: assets at risk first, one page per asset with its charts',
    load: async () => (await import('./web-command.ts')).webCommand,
  },
  simulate: {
    summary: 'publish a seeded simulated fleet to the readings topic',
    load: async () => (await import('./simulate-command.ts')).simulateCommand,
  },
};

try {
  process.exitCode = await runCli(COMMANDS, process.argv.slice(2), {
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
  });
} catch (err) {
  // Not a user mistake but a bug: keep the stack so it can be reported.
  process.stderr.write(`pdm: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
}
