/**
 * One external install command of a stack part (mvn, go install, pip, tar): its output is
 * teed into the part's install log, each output line can drive progress, a heartbeat keeps
 * a long silent phase visibly alive, and a failure is a StackError naming the part, the
 * likely cause and the log file.
 */
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { StackError } from './part.ts';

export interface InstallStep {
  part: string;
  command: string;
  args: string[];
  cwd: string;
  env?: NodeJS.ProcessEnv;
  logFile: string;
  /** Append to the log (default) or start it afresh. */
  logMode?: 'a' | 'w';
  /** Called for each complete output line (stdout and stderr). */
  onLine?: (line: string) => void;
  /** Prints `message(elapsedSec)` every `everyMs` while the command runs. */
  heartbeat?: { everyMs: number; message: (elapsedSec: number) => string; progress: (line: string) => void };
  /** What to say when the command exits non-zero (the exit code is added). */
  failure: string;
}

export function runInstallStep(step: InstallStep): Promise<void> {
  return new Promise((resolve, reject) => {
    const log = createWriteStream(step.logFile, { flags: step.logMode ?? 'a' });
    log.write(`\n$ ${step.command} ${step.args.join(' ')}\n`);
    const started = Date.now();
    const child = spawn(step.command, step.args, { cwd: step.cwd, env: step.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let partial = '';
    const onData = (chunk: Buffer): void => {
      log.write(chunk);
      if (!step.onLine) return;
      const lines = (partial + chunk.toString('utf8')).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) step.onLine(line);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    const hb = step.heartbeat;
    const timer = hb ? setInterval(() => hb.progress(hb.message(Math.round((Date.now() - started) / 1000))), hb.everyMs) : undefined;
    child.on('error', (err) => {
      clearInterval(timer);
      log.end();
      reject(new StackError(step.part, `cannot start ${step.command}: ${err.message}`, step.logFile, { cause: err }));
    });
    child.on('close', (code) => {
      clearInterval(timer);
      log.end(() => (code === 0 ? resolve() : reject(new StackError(step.part, `${step.failure} (${step.command} exit ${code})`, step.logFile))));
    });
  });
}
