/**
 * Where the local stack keeps things and which ports it uses. Everything lives under one
 * folder ($PDM_STACK_DIR, default ~/.pdm-stack) outside the checkout, so every clone
 * reuses one install: cache/<part> (downloads, builds), data/<part>, logs/<part>.log and
 * run/<part>.pid. Ports come from the environment so two stacks, or a stack beside other
 * servers, can coexist.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { StackPaths, StackPorts } from './part.ts';
import { StackError } from './part.ts';

/** Default ports of the local stack; each can be overridden by the named variable. */
export const DEFAULT_PORTS: Readonly<Record<keyof StackPorts, [envVar: string, port: number]>> = Object.freeze({
  kafka: ['PDM_KAFKA_PORT', 9092],
  kafkaController: ['PDM_KAFKA_CONTROLLER_PORT', 9093],
  registry: ['PDM_REGISTRY_PORT', 8081],
  registryMgmt: ['PDM_REGISTRY_MGMT_PORT', 9001],
  influx: ['PDM_INFLUX_PORT', 8086],
  influxRpc: ['PDM_INFLUX_RPC_PORT', 8088],
  salesforce: ['PDM_SF_PORT', 8443],
});

export function stackRoot(env: NodeJS.ProcessEnv = process.env): string {
  return env.PDM_STACK_DIR && env.PDM_STACK_DIR.trim() !== '' ? env.PDM_STACK_DIR : join(homedir(), '.pdm-stack');
}

/** Reads the ports from the environment; a malformed or duplicated port is a StackError naming the variable. */
export function stackPorts(env: NodeJS.ProcessEnv = process.env): StackPorts {
  const ports = {} as StackPorts;
  const seen = new Map<number, string>();
  for (const [key, [envVar, fallback]] of Object.entries(DEFAULT_PORTS) as [keyof StackPorts, [string, number]][]) {
    const raw = env[envVar];
    let port = fallback;
    if (raw !== undefined && raw.trim() !== '') {
      port = Number(raw);
      if (!Number.isInteger(port) || port < 1 || port > 65535) {
        throw new StackError('config', `${envVar}=${JSON.stringify(raw)} is not a TCP port (1-65535)`);
      }
    }
    const other = seen.get(port);
    if (other) throw new StackError('config', `${envVar} and ${other} both use port ${port}`);
    seen.set(port, envVar);
    ports[key] = port;
  }
  return ports;
}

export function partPaths(root: string, part: string): StackPaths {
  return {
    root,
    cacheDir: join(root, 'cache', part),
    dataDir: join(root, 'data', part),
    logFile: join(root, 'logs', `${part}.log`),
  };
}

export function pidFile(root: string, part: string): string {
  return join(root, 'run', `${part}.pid`);
}
