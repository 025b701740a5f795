/**
 * Test-only helpers of `pdm replay`: run the command in this process and collect what it
 * prints. No service imports this.
 */
import { Readable, Writable } from 'node:stream';
import { runCli } from '../cli/dispatch.ts';
import { replayCommand } from '../cli/replay-command.ts';

/** What one run of the command gave. */
export interface ReplayRun {
  code: number;
  stdout: string;
  stderr: string;
}

function collector(): Writable & { text: () => string } {
  const chunks: string[] = [];
  const w = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk.toString());
      done();
    },
  }) as Writable & { text: () => string };
  w.text = () => chunks.join('');
  return w;
}

/** Runs `pdm replay ARGS` through the dispatcher (usage errors become exit 2 as in the CLI), `stdin` as its input. */
export async function runReplay(args: readonly string[], stdin = ''): Promise<ReplayRun> {
  const stdout = collector();
  const stderr = collector();
  const code = await runCli({ replay: { summary: '', load: async () => replayCommand } }, ['replay', ...args], { stdin: Readable.from([stdin]), stdout, stderr });
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

/** The JSON object `--json` prints on the last line. */
export function lastJson<T>(stdout: string): T {
  return JSON.parse(stdout.trimEnd().split('\n').at(-1)!) as T;
}
