/**
 * The lifecycle every long-running service shares: started by its composition root,
 * stopped by stop() (SIGINT/SIGTERM in the CLI), which flushes what it holds and reports
 * what it could not write. `done` settles when the service ends, rejecting if it crashed.
 */
import type { MetricsRegistry } from './metrics.ts';

export interface RunningService {
  readonly name: string;
  readonly metrics: MetricsRegistry;
  /** Stops consuming, flushes, commits what was written, disconnects. Idempotent. */
  stop(): Promise<void>;
  /** Settles when the service has ended; rejects with the cause if it crashed. */
  readonly done: Promise<void>;
}
