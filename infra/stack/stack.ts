/**
 * The local stack's lifecycle: install what is missing, start each server detached on
 * 127.0.0.1 with a pid file and a log file, wait until each answers, report status, and
 * stop only what the stack itself started (the pid file names the process and its
 * command line, checked against /proc before any signal is sent).
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname } from 'node:path';
import type { Part, PartContext } from './part.ts';
import { StackError } from './part.ts';
import { partPaths, pidFile, stackPorts, stackRoot } from './paths.ts';

export const PART_NAMES = ['kafka', 'registry', 'influx', 'salesforce'] as const;
export type PartName = (typeof PART_NAMES)[number];

const DEFAULT_READY_TIMEOUT_SEC = 90;
const PROBE_INTERVAL_MS = 500;
const STOP_GRACE_MS = 20_000;

export async function loadPart(name: PartName): Promise<Part> {
  const mod = (await import(`./parts/${name}.ts`)) as { part: Part };
  return mod.part;
}

export function partContext(name: string, progress: (line: string) => void = defaultProgress): PartContext {
  const root = stackRoot();
  return { paths: partPaths(root, name), ports: stackPorts(), progress: (m) => progress(`[${name}] ${m}`) };
}

function defaultProgress(line: string): void {
  process.stderr.write(`${line}\n`);
}

interface PidRecord {
  pid: number;
  command: string;
  startedAt: string;
}

function readPid(name: string): PidRecord | undefined {
  const file = pidFile(stackRoot(), name);
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as PidRecord;
  } catch {
    return undefined;
  }
}

/** True when pid is alive and still runs the command the stack started (guards against pid reuse). */
function ownsProcess(rec: PidRecord): boolean {
  try {
    process.kill(rec.pid, 0);
  } catch {
    return false;
  }
  try {
    const cmdline = readFileSync(`/proc/${rec.pid}/cmdline`, 'utf8').split('\0');
    return cmdline[0] === rec.command || cmdline.includes(rec.command);
  } catch {
    return false;
  }
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen({ port, host: '127.0.0.1', exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

function tail(file: string, lines = 15): string {
  try {
    const text = readFileSync(file, 'utf8').trimEnd().split('\n');
    return text.slice(-lines).map((l) => `    ${l}`).join('\n');
  } catch {
    return '    (no log)';
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface UpOptions {
  only?: PartName[];
  progress?: (line: string) => void;
}

/** Installs (in parallel) and starts every part; resolves when all answer. Idempotent. */
export async function up(opts: UpOptions = {}): Promise<void> {
  const names = opts.only ?? [...PART_NAMES];
  const progress = opts.progress ?? defaultProgress;
  const parts = await Promise.all(names.map(async (n) => ({ name: n, part: await loadPart(n), ctx: partContext(n, progress) })));
  const installs = await Promise.allSettled(
    parts.map(async ({ name, part, ctx }) => {
      const rec = readPid(name);
      if (rec && ownsProcess(rec)) return; // running: its install is there
      const t0 = Date.now();
      await part.install(ctx);
      const sec = (Date.now() - t0) / 1000;
      if (sec > 2) ctx.progress(`installed in ${sec.toFixed(1)} s`);
    }),
  );
  const failed = installs.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
  if (failed.length) throw combine(failed);
  const starts = await Promise.allSettled(parts.map(({ name, part, ctx }) => startPart(name, part, ctx)));
  const startFailed = starts.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
  if (startFailed.length) throw combine(startFailed);
}

function combine(errors: unknown[]): Error {
  if (errors.length === 1) return errors[0] instanceof Error ? errors[0] : new Error(String(errors[0]));
  return new AggregateError(errors, errors.map((e) => (e instanceof Error ? e.message : String(e))).join('\n'));
}

async function startPart(name: PartName, part: Part, ctx: PartContext): Promise<void> {
  const rec = readPid(name);
  if (rec && ownsProcess(rec)) {
    if (await part.probe(ctx)) {
      ctx.progress('already up');
      return;
    }
    await waitReady(name, part, ctx, rec.pid);
    return;
  }
  for (const port of part.ports(ctx)) {
    if (!(await portFree(port))) {
      throw new StackError(name, `port ${port} on 127.0.0.1 is already taken by a process the stack did not start; stop it or choose other ports (PDM_*_PORT variables)`);
    }
  }
  mkdirSync(ctx.paths.dataDir, { recursive: true });
  mkdirSync(dirname(ctx.paths.logFile), { recursive: true });
  if (part.prepare) await part.prepare(ctx);
  const spec = part.launch(ctx);
  const log = openSync(ctx.paths.logFile, 'a');
  writeFileSync(log, `\n==== ${new Date().toISOString()} starting ${spec.command} ${spec.args.join(' ')}\n`);
  const t0 = Date.now();
  const child = spawn(spec.command, spec.args, {
    cwd: spec.cwd ?? ctx.paths.dataDir,
    env: { ...process.env, ...spec.env },
    detached: true,
    stdio: ['ignore', log, log],
  });
  closeSync(log);
  const spawnError = await new Promise<Error | undefined>((resolve) => {
    child.once('error', resolve);
    child.once('spawn', () => resolve(undefined));
  });
  if (spawnError || child.pid === undefined) {
    throw new StackError(name, `cannot run ${spec.command}: ${spawnError?.message ?? 'no pid'}`, ctx.paths.logFile, { cause: spawnError });
  }
  child.unref();
  const file = pidFile(ctx.paths.root, name);
  mkdirSync(dirname(file), { recursive: true });
  const record: PidRecord = { pid: child.pid, command: spec.command, startedAt: new Date().toISOString() };
  writeFileSync(file, JSON.stringify(record));
  ctx.progress(`started (pid ${child.pid}), waiting until ready`);
  await waitReady(name, part, ctx, child.pid);
  if (part.afterReady) await part.afterReady(ctx);
  ctx.progress(`ready in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

async function waitReady(name: PartName, part: Part, ctx: PartContext, pid: number): Promise<void> {
  const deadline = Date.now() + (part.readyTimeoutSec ?? DEFAULT_READY_TIMEOUT_SEC) * 1000;
  for (;;) {
    if (await part.probe(ctx)) return;
    let alive = true;
    try {
      process.kill(pid, 0);
    } catch {
      alive = false;
    }
    if (!alive) {
      rmSync(pidFile(ctx.paths.root, name), { force: true });
      throw new StackError(name, `server exited during start; last log lines:\n${tail(ctx.paths.logFile)}\n`, ctx.paths.logFile);
    }
    if (Date.now() > deadline) {
      throw new StackError(name, `not ready after ${part.readyTimeoutSec ?? DEFAULT_READY_TIMEOUT_SEC} s (pid ${pid} still running); last log lines:\n${tail(ctx.paths.logFile)}\n`, ctx.paths.logFile);
    }
    await sleep(PROBE_INTERVAL_MS);
  }
}

/**
 * Stops what the stack started, newest dependency last; leaves foreign processes alone.
 * `only` narrows it to some parts (the reliability suite stops one server at a time).
 */
export async function down(opts: { progress?: (line: string) => void; only?: readonly PartName[] } = {}): Promise<void> {
  const progress = opts.progress ?? defaultProgress;
  for (const name of [...PART_NAMES].reverse()) {
    if (opts.only && !opts.only.includes(name)) continue;
    const rec = readPid(name);
    const file = pidFile(stackRoot(), name);
    if (!rec) continue;
    if (!ownsProcess(rec)) {
      progress(`[${name}] not running (stale pid file removed)`);
      rmSync(file, { force: true });
      continue;
    }
    // The server runs in its own process group (detached): signal the group so helpers it forked stop too.
    signalGroup(rec.pid, 'SIGTERM');
    const deadline = Date.now() + STOP_GRACE_MS;
    while (ownsProcess(rec) && Date.now() < deadline) await sleep(200);
    if (ownsProcess(rec)) {
      progress(`[${name}] did not stop within ${STOP_GRACE_MS / 1000} s, killing`);
      signalGroup(rec.pid, 'SIGKILL');
      while (ownsProcess(rec)) await sleep(100);
    }
    rmSync(file, { force: true });
    progress(`[${name}] stopped`);
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      /* already gone */
    }
  }
}

export type PartStatus = { up: boolean } & Record<string, unknown>;
export type StackStatus = Record<PartName, PartStatus>;

/** Probes every part; `up` means it answers real requests now. */
export async function status(): Promise<StackStatus> {
  const entries = await Promise.all(
    PART_NAMES.map(async (name) => {
      const part = await loadPart(name);
      const ctx = partContext(name);
      const upNow = await part.probe(ctx);
      return [name, { up: upNow, ...part.info(ctx) }] as const;
    }),
  );
  return Object.fromEntries(entries) as StackStatus;
}

/** Connection info of every part without probing (for code that already knows the stack is up). */
export async function connectionInfo(only: readonly PartName[] = PART_NAMES): Promise<StackStatus> {
  const entries = await Promise.all(
    only.map(async (name) => {
      const part = await loadPart(name);
      return [name, { up: true, ...part.info(partContext(name)) }] as const;
    }),
  );
  return Object.fromEntries(entries) as StackStatus;
}
