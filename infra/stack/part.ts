/**
 * The contract between the stack orchestrator (infra/stack/cli.ts: up, down, status) and
 * each server it runs. A part knows how to install itself into the shared cache, the
 * command line that runs it in the foreground, and how to probe it. The orchestrator owns
 * everything else: port checks, spawning detached with a pid file, log files, waiting
 * until ready, stopping only what it started, and the status JSON.
 */

export interface StackPaths {
  /** Root of everything the stack keeps: $PDM_STACK_DIR, default ~/.pdm-stack. */
  root: string;
  /** Downloads and builds, reused by every clone: <root>/cache/<part>. */
  cacheDir: string;
  /** The part's data: <root>/data/<part>. */
  dataDir: string;
  /** The part's log file: <root>/logs/<part>.log. */
  logFile: string;
}

export interface StackPorts {
  /** Kafka client listener (PDM_KAFKA_PORT, default 9092). */
  kafka: number;
  /** Kafka KRaft controller listener (PDM_KAFKA_CONTROLLER_PORT, default 9093). */
  kafkaController: number;
  /** Schema registry HTTP (PDM_REGISTRY_PORT, default 8081). */
  registry: number;
  /** Schema registry management/health (PDM_REGISTRY_MGMT_PORT, default 9001). */
  registryMgmt: number;
  /** InfluxDB HTTP (PDM_INFLUX_PORT, default 8086). */
  influx: number;
  /** InfluxDB internal RPC bind (PDM_INFLUX_RPC_PORT, default 8088). */
  influxRpc: number;
  /** Salesforce stand-in HTTP (PDM_SF_PORT, default 8443; plain HTTP on loopback). */
  salesforce: number;
}

export interface PartContext {
  paths: StackPaths;
  ports: StackPorts;
  /** Prints one progress line for long work (downloads, builds) to stderr. */
  progress(message: string): void;
}

export interface LaunchSpec {
  command: string;
  args: string[];
  env?: Record<string, string>;
  cwd?: string;
}

export interface Part {
  name: 'kafka' | 'registry' | 'influx' | 'salesforce';
  /** Ports this part listens on; each must be free before start. */
  ports(ctx: PartContext): number[];
  /** Idempotent: does nothing when the cache already holds a complete install. Throws StackError. */
  install(ctx: PartContext): Promise<void>;
  /** One-time preparation of the data dir before the first start (e.g. format storage). Idempotent. */
  prepare?(ctx: PartContext): Promise<void>;
  /** The foreground command that runs the server; stdout/stderr go to ctx.paths.logFile. */
  launch(ctx: PartContext): LaunchSpec;
  /** One readiness probe: true when the server answers real requests. Never throws. */
  probe(ctx: PartContext): Promise<boolean>;
  /** After the first successful probe of a start: create databases, users, etc. Idempotent. */
  afterReady?(ctx: PartContext): Promise<void>;
  /** How clients reach it, as printed by `stack:status --json` under this part's name. */
  info(ctx: PartContext): Record<string, unknown>;
  /** Seconds to wait for readiness before giving up (default 90). */
  readyTimeoutSec?: number;
}

/** A failure of the stack, naming the part, the cause and where to look. */
export class StackError extends Error {
  constructor(
    readonly part: string,
    message: string,
    readonly logFile?: string,
    options?: ErrorOptions,
  ) {
    super(`${part}: ${message}${logFile ? ` (log: ${logFile})` : ''}`, options);
    this.name = 'StackError';
  }
}
