/**
 * The lifecycle every long-running service shares (scorer, influx-sink, case-opener, web):
 * started by its composition root, reporting readiness and the health of its dependencies as it
 * runs (health.ts, served on /readyz and /healthz beside /metrics), stopped by stop()
 * (SIGINT/SIGTERM in the CLI), which flushes what it holds and reports what it could not
 * write. `done` settles when the service has ended, rejecting if it crashed; the CLI
 * (service-command.ts) then exits the process, whatever sockets are still open.
 */
import type { Health } from './health.ts';
import type { MetricsRegistry } from './metrics.ts';

export interface RunningService {
  readonly name: string;
  readonly metrics: MetricsRegistry;
  /** Readiness and dependency health, as /readyz and /healthz report them. */
  readonly health: Health;
  /** Stops consuming, flushes, commits what was written, disconnects. Idempotent. */
  stop(): Promise<void>;
  /** Settles when the service has ended; rejects with the cause if it crashed. */
  readonly done: Promise<void>;
}
