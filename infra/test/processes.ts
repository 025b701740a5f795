/**
 * The product's services as the processes they are in production (`pdm scorer`, `pdm
 * influx-sink`, `pdm case-opener`), started by the benchmark with their environment, each
 * with its last log lines kept for error messages, and stopped with SIGTERM (SIGKILL after
 * 10 s).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { Admin } from 'kafkajs';

const BIN = join(import.meta.dirname, '..', '..', 'services', 'cli', 'bin.mjs');
/** Node flags of a service process: those of bin.mjs's first line (`node bin.mjs` does not read it). */
export const SERVICE_NODE_FLAGS = ['--max-semi-space-size=32'];

export type ServiceName = 'scorer' | 'influx-sink' | 'case-opener';

export interface ServiceProcess {
  name: string;
  child: ChildProcess;
  metricsPort: number;
  /** Partitions of its latest assignment (the scorer logs them; empty until the first). */
  partitions: number[];
  /** AddPartitionsToTxn answered CONCURRENT_TRANSACTIONS: kafkajs backed off before retrying. */
  concurrentTxnRetries: number;
  /** Its last log lines, for error messages. */
  tail: string[];
  /** Rejects when the process exits. */
  exited: Promise<never>;
}

/** Ports freePort() picks from: below the kernels' ephemeral ranges (Linux 32768-60999, macOS and Windows 49152-65535). */
const LISTEN_PORTS = { first: 20_000, count: 12_000 } as const;

/**
 * A TCP port free on 127.0.0.1 right now, for a child process to listen on. Not one the OS
 * picks (port 0): those come from the ephemeral range, where an outgoing connection (one of
 * the many a Kafka client opens) can take the port between this check and the child's
 * listen, which failed a benchmark run with EADDRINUSE. A random port below that range is
 * only ever taken by another listener.
 */
export async function freePort(): Promise<number> {
  for (let tries = 0; tries < 50; tries++) {
    const port = LISTEN_PORTS.first + Math.floor(Math.random() * LISTEN_PORTS.count);
    if (await canListen(port)) return port;
  }
  throw new Error(`no free port on 127.0.0.1 in ${LISTEN_PORTS.first}-${LISTEN_PORTS.first + LISTEN_PORTS.count - 1} after 50 tries`);
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/** Starts `pdm <service>` with `env` over this process's environment; resolves once it runs (not yet once it consumes). */
export async function startService(service: ServiceName, instanceId: string, env: Record<string, string>, capture?: string[]): Promise<ServiceProcess> {
  const metricsPort = await freePort();
  const child = spawn(process.execPath, [...SERVICE_NODE_FLAGS, BIN, service, '--instance-id', instanceId, '--metrics-port', String(metricsPort)], {
    env: { ...process.env, PDM_LOG_LEVEL: 'info', PDM_LOG_FORMAT: '', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const name = `${service}.${instanceId}`;
  const proc: ServiceProcess = {
    name,
    child,
    metricsPort,
    partitions: [],
    concurrentTxnRetries: 0,
    tail: [],
    exited: new Promise<never>((_, reject) =>
      child.once('exit', (code, sig) => reject(new Error(`${name} exited (${code ?? sig}); its last lines:\n${proc.tail.join('\n')}`))),
    ),
  };
  proc.exited.catch(() => undefined); // observed by whoever races it
  let buf = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => {
    buf += chunk;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      proc.tail.push(line);
      capture?.push(line);
      if (proc.tail.length > 40) proc.tail.shift();
      const m = /partitions assigned (\{.*\})/.exec(line);
      if (m) proc.partitions = (JSON.parse(m[1]!) as { partitions: number[] }).partitions;
      else if (/concurrent operation on the same transaction/.test(line)) {
        // Logged twice per occurrence (the response, then the retry): count the retry line.
        if (/Failed to send messages/.test(line)) proc.concurrentTxnRetries++;
      } else if (/\] (WARN|ERROR): /.test(line) && !/rebalancing|rejoin|group coordinator is not available|not the correct coordinator/i.test(line)) {
        process.stderr.write(`${name}: ${line}\n`);
      }
    }
  });
  return proc;
}

/** Resolves when every group is Stable with at least one member (a consumer that joined consumes). */
export async function groupsStable(admin: Admin, groupIds: string[], procs: readonly ServiceProcess[], timeoutMs = 90_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const { groups } = await admin.describeGroups(groupIds);
    if (groups.length === groupIds.length && groups.every((g) => g.state === 'Stable' && g.members.length > 0)) return;
    if (Date.now() > until) {
      throw new Error(`consumer groups not stable within ${timeoutMs} ms: ${groups.map((g) => `${g.groupId}=${g.state}`).join(', ')}; last lines:\n${procs.map((p) => `${p.name}:\n${p.tail.slice(-5).join('\n')}`).join('\n')}`);
    }
    await Promise.race([new Promise((r) => setTimeout(r, 200)), ...procs.map((p) => p.exited)]);
  }
}

export async function stopProcess(p: ServiceProcess): Promise<void> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return;
  p.child.kill('SIGTERM');
  await Promise.race([p.exited.catch(() => undefined), new Promise((r) => setTimeout(r, 10_000))]);
  if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
}

/** Reads counters (summed over labels) from a service's Prometheus endpoint. */
export async function scrape(port: number, names: readonly string[]): Promise<Record<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(5_000) })).text();
  const out: Record<string, number> = {};
  for (const name of names) {
    out[name] = 0;
    for (const line of text.split('\n')) if (line.startsWith(name) && /^[a-z_]+(\{|\s)/.test(line)) out[name] += Number(line.split(/\s+/).pop());
  }
  return out;
}
