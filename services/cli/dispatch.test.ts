import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { parseOptions, UsageError } from './args.ts';
import type { CliIo, Command } from './command.ts';
import { mainUsage, runCli, type CommandRegistry } from './dispatch.ts';

function io(): CliIo & { out: () => string; err: () => string } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  stderr.on('data', (d: Buffer) => (err += d.toString()));
  return { stdin: new PassThrough(), stdout, stderr, out: () => out, err: () => err };
}

describe('runCli', () => {
  const loaded: string[] = [];
  const echo: Command = {
    usage: 'Usage: pdm echo WORDS\n',
    async run(args, { stdout }) {
      if (args[0] === 'bad') throw new UsageError('pdm echo: bad word');
      stdout.write(args.join(' '));
      return 0;
    },
  };
  const registry: CommandRegistry = {
    echo: { summary: 'print words', load: async () => (loaded.push('echo'), echo) },
    never: { summary: 'not loaded unless run', load: async () => (loaded.push('never'), echo) },
  };

  it('runs a command, loading only that one', async () => {
    const s = io();
    expect(await runCli(registry, ['echo', 'a', 'b'], s)).toBe(0);
    await new Promise((r) => setImmediate(r));
    expect(s.out()).toBe('a b');
    expect(loaded).toEqual(['echo']);
  });

  it('prints the command list for --help and for a bare call (exit 2)', async () => {
    const s = io();
    expect(await runCli(registry, ['--help'], s)).toBe(0);
    const bare = io();
    expect(await runCli(registry, [], bare)).toBe(2);
    await new Promise((r) => setImmediate(r));
    expect(s.out()).toBe(mainUsage(registry));
    expect(s.out()).toContain('  echo   print words\n  never  not loaded unless run\n');
    expect(bare.err()).toBe(mainUsage(registry));
  });

  it('prints a command usage for `<command> --help` without running it', async () => {
    const s = io();
    expect(await runCli(registry, ['echo', 'bad', '--help'], s)).toBe(0);
    await new Promise((r) => setImmediate(r));
    expect(s.out()).toBe('Usage: pdm echo WORDS\n');
  });

  it('refuses an unknown command with exit 2', async () => {
    const s = io();
    expect(await runCli(registry, ['scroe'], s)).toBe(2);
    await new Promise((r) => setImmediate(r));
    expect(s.err()).toBe("pdm: unknown command 'scroe' (commands: echo, never; see pdm --help)\n");
  });

  it('turns a UsageError into its message and exit 2', async () => {
    const s = io();
    expect(await runCli(registry, ['echo', 'bad'], s)).toBe(2);
    await new Promise((r) => setImmediate(r));
    expect(s.err()).toBe('pdm echo: bad word\n');
  });
});

describe('parseOptions', () => {
  const spec = { input: { type: 'string', short: 'i' }, quiet: { type: 'boolean' } } as const;

  it('reads --name value, --name=value, -x value, flags and - as a value', () => {
    expect(parseOptions('t', ['--input', 'a.csv', '--quiet'], spec)).toEqual({ input: 'a.csv', quiet: true });
    expect(parseOptions('t', ['--input=a=b.csv'], spec)).toEqual({ input: 'a=b.csv' });
    expect(parseOptions('t', ['-i', '-'], spec)).toEqual({ input: '-' });
  });

  it.each([
    [['--nope'], 'pdm t: unknown option --nope (see pdm t --help)'],
    [['-x'], 'pdm t: unknown option -x (see pdm t --help)'],
    [['stray'], "pdm t: unexpected argument 'stray' (see pdm t --help)"],
    [['--input'], 'pdm t: option --input needs a value'],
    [['--input', '--quiet'], 'pdm t: option --input needs a value'],
    [['--input='], 'pdm t: option --input needs a non-empty value'],
    [['--quiet=yes'], 'pdm t: option --quiet takes no value'],
    [['-i', 'a', '--input', 'b'], 'pdm t: option --input given twice'],
  ])('refuses %j', (args, message) => {
    expect(() => parseOptions('t', args, spec)).toThrow(new UsageError(message));
  });
});
