/**
 * `npm run stack:up|stack:down|stack:status [-- --json] [--only NAME,...]`: the local
 * stack from the command line. Exit 0 on success; 1 with one message per failed part
 * (naming the part, the cause and its log file) otherwise; 2 on bad usage.
 *
 * `stack runtime java|go|node` installs that pinned runtime from PyPI into the stack folder
 * (once) and prints the folder of its executables on stdout, for scripts: `.ci/run` puts
 * Node 24's first on the PATH for its second pass.
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { stackRoot } from './paths.ts';
import { ensureRuntime, RUNTIMES, runtimeBinDir } from './runtimes.ts';
import { PART_NAMES, type PartName, down, status, up } from './stack.ts';

async function main(): Promise<number> {
  const [command, ...rest] = process.argv.slice(2);
  if (command === 'runtime') return runtime(rest);
  const { values } = parseArgs({
    args: rest,
    options: { json: { type: 'boolean', default: false }, only: { type: 'string' } },
    strict: true,
  });
  let only: PartName[] | undefined;
  if (values.only) {
    only = values.only.split(',').map((s) => s.trim()) as PartName[];
    const bad = only.filter((n) => !PART_NAMES.includes(n));
    if (bad.length) {
      process.stderr.write(`stack: unknown part ${bad.join(', ')} (parts: ${PART_NAMES.join(', ')})\n`);
      return 2;
    }
  }
  switch (command) {
    case 'up': {
      const t0 = Date.now();
      await up(only ? { only } : {});
      process.stderr.write(`stack: up in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
      return 0;
    }
    case 'down':
      await down(only ? { only } : {});
      return 0;
    case 'status': {
      const s = await status();
      if (values.json) {
        process.stdout.write(`${JSON.stringify(s)}\n`);
      } else {
        for (const [name, st] of Object.entries(s)) {
          const { up: isUp, ...info } = st;
          process.stdout.write(`${name.padEnd(11)} ${isUp ? 'up  ' : 'DOWN'}  ${JSON.stringify(info)}\n`);
        }
      }
      return Object.values(s).every((p) => p.up) ? 0 : 1;
    }
    default:
      process.stderr.write(`usage: stack up|down|status [--json] [--only kafka,registry,influx,salesforce]\n       stack runtime ${Object.keys(RUNTIMES).join('|')}\n`);
      return 2;
  }
}

async function runtime(args: string[]): Promise<number> {
  const name = args[0];
  const rt = name !== undefined && args.length === 1 && Object.hasOwn(RUNTIMES, name) ? RUNTIMES[name as keyof typeof RUNTIMES] : undefined;
  if (!rt) {
    process.stderr.write(`usage: stack runtime ${Object.keys(RUNTIMES).join('|')}\n`);
    return 2;
  }
  const root = stackRoot();
  await ensureRuntime(root, rt, 'runtime', join(root, 'logs', `runtime-${rt.name}.log`), (m) => process.stderr.write(`[runtime] ${m}\n`));
  process.stdout.write(`${runtimeBinDir(root, rt)}\n`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    const errors = err instanceof AggregateError ? err.errors : [err];
    for (const e of errors) process.stderr.write(`stack: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  },
);
