/**
 * Errors shared by every service. Each says whether a retry can help, and each wrap adds
 * one piece of context while keeping its cause.
 */

/** Base of the pipeline's own errors. `retriable` is true when the same call may succeed later. */
export class PipelineError extends Error {
  constructor(message: string, readonly retriable: boolean, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Reasons a record is dead-lettered; the value of the pdm-dlq-reason header. */
export type DeadLetterReason =
  | 'malformed_avro'
  | 'unknown_schema'
  | 'unknown_asset_type'
  | 'invalid_value'
  | 'invalid_record'
  | 'case_write_failed';

/** A record that can never be processed as it is: it goes to the dead-letter topic. */
export class PoisonRecordError extends PipelineError {
  constructor(message: string, readonly reason: DeadLetterReason, options?: ErrorOptions) {
    super(message, false, options);
  }
}

/** Bad service configuration: the service refuses to start and names every problem. */
export class ServiceConfigError extends PipelineError {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`, false);
  }
}

/** An error carrying a server's retry-after hint, in milliseconds. */
export interface RetryAfter {
  retryAfterMs?: number;
}

/** Renders an error with its chain of causes on one line: "a: b: c". */
export function describeError(err: unknown): string {
  const parts: string[] = [];
  let cur: unknown = err;
  for (let depth = 0; cur !== undefined && cur !== null && depth < 6; depth++) {
    if (cur instanceof Error) {
      parts.push(cur.message);
      cur = (cur as Error & { cause?: unknown }).cause;
    } else {
      parts.push(String(cur));
      break;
    }
  }
  return parts.join(': ');
}
