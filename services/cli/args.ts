/**
 * Command-line plumbing shared by every `pdm` subcommand: a strict option parser that
 * produces our own messages (node:util parseArgs rejects `--input -` style values in some
 * forms and its messages talk about positionals our users never typed), and the usage
 * error that the dispatcher turns into exit code 2.
 */

/** A mistake in how the command was invoked; the dispatcher prints it and exits with 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Declaration of one long option: `--name VALUE` for strings, `--name` for flags. */
export interface OptionSpec {
  type: 'string' | 'boolean';
  /** One-letter alias without the dash, e.g. 'h' for -h. */
  short?: string;
}

export type ParsedOptions<S extends Record<string, OptionSpec>> = {
  [K in keyof S]?: S[K]['type'] extends 'string' ? string : boolean;
};

/**
 * Parses `args` (the words after the subcommand) against `spec`.
 * Accepts `--name value`, `--name=value` and `-x value`; a lone `-` is a value (stdin/stdout).
 * Positional arguments are refused: every pdm option is named, so a stray word is a typo.
 * @throws UsageError naming the offending word and the command.
 */
export function parseOptions<S extends Record<string, OptionSpec>>(
  command: string,
  args: readonly string[],
  spec: S,
): ParsedOptions<S> {
  const out: Record<string, string | boolean> = {};
  const byShort = new Map<string, string>();
  for (const [name, s] of Object.entries(spec)) if (s.short) byShort.set(s.short, name);
  for (let i = 0; i < args.length; i++) {
    const word = args[i]!;
    let name: string | undefined;
    let inline: string | undefined;
    if (word.startsWith('--') && word.length > 2) {
      const eq = word.indexOf('=');
      name = eq < 0 ? word.slice(2) : word.slice(2, eq);
      if (eq >= 0) inline = word.slice(eq + 1);
    } else if (word.startsWith('-') && word.length === 2) {
      name = byShort.get(word[1]!);
      if (name === undefined) throw new UsageError(`pdm ${command}: unknown option ${word} (see pdm ${command} --help)`);
    } else {
      throw new UsageError(`pdm ${command}: unexpected argument '${word}' (see pdm ${command} --help)`);
    }
    const s = spec[name];
    if (!s) throw new UsageError(`pdm ${command}: unknown option --${name} (see pdm ${command} --help)`);
    if (Object.hasOwn(out, name)) throw new UsageError(`pdm ${command}: option --${name} given twice`);
    if (s.type === 'boolean') {
      if (inline !== undefined) throw new UsageError(`pdm ${command}: option --${name} takes no value`);
      out[name] = true;
      continue;
    }
    let value = inline;
    if (value === undefined) {
      const next = args[i + 1];
      // A following option is not a value: `--input --output x` means --input was left empty.
      if (next === undefined || (next.startsWith('-') && next !== '-')) {
        throw new UsageError(`pdm ${command}: option --${name} needs a value`);
      }
      value = next;
      i++;
    }
    if (value === '') throw new UsageError(`pdm ${command}: option --${name} needs a non-empty value`);
    out[name] = value;
  }
  return out as ParsedOptions<S>;
}
