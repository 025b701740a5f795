/**
 * Restarts a kafkajs consumer that gave up on a broker that is only away.
 *
 * kafkajs restarts a crashed consumer itself when the error is retriable. Some errors of a
 * broker that is restarting are not, by kafkajs's classification: while the broker shuts
 * down, the group coordinator lookup can meet a refused connection, give up with
 * KafkaJSGroupCoordinatorNotFound (a non-retriable error) and stop the consumer for good.
 * The reliability suite's broker restart found it: the sink exited on its own. A service
 * must outlive a broker restart, so a crash whose cause is the broker being unreachable is
 * taken over here: the consumer runs again after a backoff (1 s doubling to 30 s, reset when
 * it joins its group), for as long as the broker stays away. Meanwhile the service reports
 * Kafka down and is not ready (its health decides when it has been away too long). Any other
 * crash kafkajs gives up on still stops the service.
 */
import type { Consumer, ConsumerRunConfig } from 'kafkajs';
import { describeError } from '../runtime/errors.ts';
import type { Logger } from '../runtime/log.ts';

/** kafkajs error names that mean the broker (or its coordinator) cannot be reached now. */
const UNREACHABLE_NAMES = new Set([
  'KafkaJSGroupCoordinatorNotFound',
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSBrokerNotFound',
  'KafkaJSNumberOfRetriesExceeded',
  'KafkaJSRequestTimeoutError',
]);

/** Kafka protocol error types of a broker that is starting, stopping or moving leadership. */
const UNREACHABLE_TYPES = new Set([
  'NOT_COORDINATOR',
  'COORDINATOR_NOT_AVAILABLE',
  'COORDINATOR_LOAD_IN_PROGRESS',
  'GROUP_COORDINATOR_NOT_AVAILABLE',
  'LEADER_NOT_AVAILABLE',
  'NOT_LEADER_FOR_PARTITION',
  'REQUEST_TIMED_OUT',
  'NETWORK_EXCEPTION',
]);

const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENOTFOUND']);

/** Whether an error (or one of its causes) says the broker cannot be reached now. */
export function brokerUnreachable(err: unknown): boolean {
  let cur: unknown = err;
  for (let i = 0; i < 8 && cur && typeof cur === 'object'; i++) {
    const e = cur as { name?: unknown; type?: unknown; code?: unknown; cause?: unknown };
    if (typeof e.name === 'string' && UNREACHABLE_NAMES.has(e.name)) return true;
    if (typeof e.type === 'string' && UNREACHABLE_TYPES.has(e.type)) return true;
    if (typeof e.code === 'string' && UNREACHABLE_CODES.has(e.code)) return true;
    cur = e.cause;
  }
  return false;
}

export const RESTART_FIRST_MS = 1_000;
export const RESTART_MAX_MS = 30_000;

/** The backoff before the nth restart in a row (0-based): 1 s doubling, at most 30 s. */
export function restartDelayMs(n: number): number {
  return Math.min(RESTART_MAX_MS, RESTART_FIRST_MS * 2 ** Math.min(n, 16));
}

export class ConsumerRestarts {
  private inARow = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** Restarts done since the service started. */
  count = 0;

  constructor(
    private readonly consumer: Consumer,
    private readonly config: ConsumerRunConfig,
    private readonly log: Logger,
  ) {
    consumer.on(consumer.events.GROUP_JOIN, () => {
      this.inARow = 0;
    });
  }

  /**
   * Call from the CRASH listener when kafkajs will not restart the consumer: true when the
   * crash is the broker being away and the consumer runs again later; false when the
   * service should stop (another error, or the service is stopping).
   */
  takeOver(err: unknown): boolean {
    if (this.stopped || !brokerUnreachable(err)) return false;
    const delayMs = restartDelayMs(this.inARow++);
    this.log.warn('the Kafka consumer gave up on an unreachable broker; running it again', { inMs: delayMs, error: describeError(err) });
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.stopped) return;
      this.count++;
      // A failure to connect or join comes back as another CRASH event, not as a rejection.
      this.consumer.run(this.config).catch((e: unknown) => this.log.error('running the Kafka consumer again failed', { error: describeError(e) }));
    }, delayMs);
    return true;
  }

  /** No restart after this (the service is stopping). */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
