/**
 * Which consumer crashes a service outlives by running its consumer again: those of a broker
 * that cannot be reached now, in the shapes kafkajs really gives them (its own error classes,
 * wrapped as its retrier wraps them), and no other.
 */
import * as kafkajs from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { brokerUnreachable, restartDelayMs } from './consumer-restart.ts';

// kafkajs's own classes, called as its code calls them (its .d.ts declares narrower constructors).
type KafkaJSErrorClass = new (...args: unknown[]) => Error & { retriable?: boolean };
const { KafkaJSConnectionError, KafkaJSError, KafkaJSGroupCoordinatorNotFound, KafkaJSNonRetriableError, KafkaJSNumberOfRetriesExceeded, KafkaJSProtocolError } = kafkajs as unknown as Record<'KafkaJSConnectionError' | 'KafkaJSError' | 'KafkaJSGroupCoordinatorNotFound' | 'KafkaJSNonRetriableError' | 'KafkaJSNumberOfRetriesExceeded' | 'KafkaJSProtocolError', KafkaJSErrorClass>;

describe('brokerUnreachable', () => {
  it('is the coordinator lookup kafkajs gives up on while the broker restarts (found by the reliability suite)', () => {
    const cause = new KafkaJSGroupCoordinatorNotFound('Failed to find group coordinator');
    // As kafkajs's retrier wraps an error it will not retry (retry/index.js).
    const crash = new KafkaJSNonRetriableError(cause, { cause });
    expect(crash.retriable).toBe(false);
    expect(brokerUnreachable(crash)).toBe(true);
  });

  it('is a refused connection, retries exhausted on one, and a coordinator that moved, however deeply wrapped', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9092'), { code: 'ECONNREFUSED' });
    expect(brokerUnreachable(new KafkaJSError(new Error('wrapper'), { cause: refused }))).toBe(true);
    const connection = new KafkaJSConnectionError('Connection error');
    expect(brokerUnreachable(new KafkaJSNumberOfRetriesExceeded(connection, { retryCount: 10, retryTime: 30_000 }))).toBe(true);
    const notCoordinator = new KafkaJSProtocolError({ message: 'This is not the correct coordinator for this group', type: 'NOT_COORDINATOR', code: 16, retriable: true });
    expect(brokerUnreachable(new KafkaJSNonRetriableError(notCoordinator, { cause: notCoordinator }))).toBe(true);
  });

  it('is not an error of the service or of the data: those still stop it', () => {
    expect(brokerUnreachable(new Error('eachBatch: cannot read properties of undefined'))).toBe(false);
    const auth = new KafkaJSProtocolError({ message: 'Not authorized to access group', type: 'GROUP_AUTHORIZATION_FAILED', code: 30, retriable: false });
    expect(brokerUnreachable(new KafkaJSNonRetriableError(auth, { cause: auth }))).toBe(false);
    expect(brokerUnreachable(undefined)).toBe(false);
    expect(brokerUnreachable('ECONNREFUSED')).toBe(false);
  });
});

describe('restartDelayMs', () => {
  it('starts at a second, doubles, and stays at 30 s however long the broker is away', () => {
    expect([0, 1, 2, 3, 4, 5, 6].map(restartDelayMs)).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000]);
    expect(restartDelayMs(10_000)).toBe(30_000);
  });
});
