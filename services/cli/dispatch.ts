/**
 * The `pdm` dispatcher: picks a subcommand from a registry, loads it lazily, prints help and
 * turns usage mistakes into exit code 2. Kept apart from main.ts (the entry point, which runs
 * on import) so it can be tested with a registry of fakes.
 */
import { UsageError } from './args.ts';
import type { CliIo, Command } from './command.ts';

/** A registry entry: a one-line summary for `pdm --help` and a lazy loader. */
export interface CommandEntry {
  summary: string;
  /** Loads the command's module; only called when that command runs, so its deps stay unloaded otherwise. */
  load: () => Promise<Command>;
}

export type CommandRegistry = Readonly<Record<string, CommandEntry>>;

/** Text of `pdm --help` for `registry`. */
export function mainUsage(registry: CommandRegistry): string {
  const names = Object.keys(registry);
  const width = Math.max(0, ...names.map((n) => n.length));
  return [
    'Usage: pdm <command> [options]',
    '',
    'Commands:',
    ...Object.entries(registry).map(([n, e]) => `  ${n.padEnd(width)}  ${e.summary}`),
    '',
    'Run `pdm <command> --help` for the options of one command.',
    '',
  ].join('\n');
}

/**
 * Dispatches `argv` (the words after `pdm`) to a command of `registry`.
 * @returns the exit code: the command's own, 0 for help, 2 for a usage error.
 */
export async function runCli(registry: CommandRegistry, argv: readonly string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined) {
    // Bare `pdm` is a usage error, but still shows the help the user is looking for.
    io.stderr.write(mainUsage(registry));
    return 2;
  }
  if (name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(mainUsage(registry));
    return 0;
  }
  const entry = Object.hasOwn(registry, name) ? registry[name] : undefined;
  if (!entry) {
    const known = Object.keys(registry).join(', ');
    io.stderr.write(`pdm: unknown command '${name}' (commands: ${known}; see pdm --help)\n`);
    return 2;
  }
  const command = await entry.load();
  // Help wins over everything else on the line, like git and npm, so `--help` never runs work.
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout.write(command.usage);
    return 0;
  }
  try {
    return await command.run(rest, io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr.write(`${err.message}\n`);
      return 2;
    }
    throw err;
  }
}
