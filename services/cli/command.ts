/**
 * The contract between the `pdm` dispatcher (main.ts) and one subcommand. Streams are passed
 * in rather than taken from `process` so a command can be driven from a test or another
 * process without touching globals.
 */
import type { Readable, Writable } from 'node:stream';

/** The standard streams a command reads and writes. */
export interface CliIo {
  stdin: Readable & { isTTY?: boolean };
  stdout: Writable & { isTTY?: boolean };
  stderr: Writable & { isTTY?: boolean };
}

/** One `pdm <name>` subcommand. */
export interface Command {
  /** Full help text printed by `pdm <name> --help` (ends with a newline). */
  usage: string;
  /**
   * Runs the command with the words after its name.
   * @returns the process exit code: 0 success, 1 failure (bad input, unreadable file),
   *   2 usage error. Throw {@link UsageError} for usage errors; the dispatcher prints it.
   */
  run(args: string[], io: CliIo): Promise<number>;
}
