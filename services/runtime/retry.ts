/**
 * Retry with exponential backoff and full jitter. What retrying cannot fix (a bail, or a
 * PipelineError that says it is not retriable) is thrown at once; a server's retry-after
 * hint is honoured (with jitter on top, so a fleet of clients does not return in step).
 */
import { PipelineError, type RetryAfter } from './errors.ts';

export interface RetryOptions {
  /** Attempts after the first one. Default 8. */
  retries: number;
  /** First backoff, ms. Default 200. */
  minDelayMs: number;
  /** Backoff ceiling, ms. Default 30_000. */
  maxDelayMs: number;
  /** True for errors retrying cannot fix; they are rethrown at once. */
  bail?: (err: unknown) => boolean;
  /** Called before each wait, with the attempt number (1-based) and the delay. */
  onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
  /** Aborts the waiting between attempts (shutdown). */
  signal?: AbortSignal;
}

export const DEFAULT_RETRY: RetryOptions = { retries: 8, minDelayMs: 200, maxDelayMs: 30_000 };

/** Backoff before attempt `attempt` (1-based): full jitter over min·2^(attempt-1), capped, or the hint. */
export function backoffMs(attempt: number, opts: Pick<RetryOptions, 'minDelayMs' | 'maxDelayMs'>, hintMs?: number, rand: () => number = Math.random): number {
  if (hintMs !== undefined && hintMs > 0) return Math.min(opts.maxDelayMs, hintMs) + rand() * opts.minDelayMs;
  const ceiling = Math.min(opts.maxDelayMs, opts.minDelayMs * 2 ** (attempt - 1));
  return opts.minDelayMs / 2 + rand() * (ceiling - opts.minDelayMs / 2);
}

function isPermanent(err: unknown, opts: Partial<RetryOptions>): boolean {
  if (opts.bail?.(err)) return true;
  if (err instanceof PipelineError) return !err.retriable;
  // Programming errors never get better by trying again.
  return err instanceof TypeError || err instanceof RangeError || err instanceof SyntaxError || err instanceof ReferenceError;
}

export async function retry<T>(fn: (attempt: number) => Promise<T>, options: Partial<RetryOptions> = {}): Promise<T> {
  const opts = { ...DEFAULT_RETRY, ...options };
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (attempt >= opts.retries || isPermanent(err, opts) || opts.signal?.aborted) throw err;
      const delay = backoffMs(attempt + 1, opts, (err as RetryAfter | undefined)?.retryAfterMs);
      opts.onRetry?.(err, attempt + 1, delay);
      await sleep(delay, opts.signal);
    }
  }
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
