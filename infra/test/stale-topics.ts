/**
 * Topics that earlier test runs left on the shared local stack. Integration tests name
 * their topics with uniqueName() (`<prefix>-<ms in base 36>-<random>.`) and most leave them
 * behind; on a stack that lives for weeks they pile up by the thousand, and a broker with
 * 13,000 partitions took over 90 s to restart (the reliability suite's kafka-down scenario
 * failed on it). Each suite therefore starts by deleting test topics older than an hour:
 * never a concurrent run's, never a topic without a run time in base 36 in its name (the
 * demo's, a user's). An interrupted `npm run bench:e2e` leaves topics named that way too.
 */
import type { Admin } from 'kafkajs';
import { createKafka } from '../../services/kafka/client.ts';

const TEST_TOPIC = /^[a-z][a-z0-9-]*?-([0-9a-z]{8})-[0-9a-z]{1,6}[.-]/;
/** Plausible creation times of a test topic: 2025 to 2040. */
const EARLIEST = Date.UTC(2025, 0, 1);
const LATEST = Date.UTC(2040, 0, 1);

/** The names among `topics` that uniqueName() made more than `maxAgeMs` before `now`. */
export function staleTestTopics(topics: readonly string[], now: number, maxAgeMs: number): string[] {
  return topics.filter((t) => {
    const m = TEST_TOPIC.exec(t);
    if (!m) return false;
    const created = parseInt(m[1]!, 36);
    return created >= EARLIEST && created < LATEST && now - created > maxAgeMs;
  });
}

/** Deletes the stale test topics (in batches, so one request stays small); returns how many. */
export async function deleteStaleTestTopics(admin: Admin, maxAgeMs = 3_600_000, now = Date.now()): Promise<number> {
  const stale = staleTestTopics(await admin.listTopics(), now, maxAgeMs);
  for (let i = 0; i < stale.length; i += 500) await admin.deleteTopics({ topics: stale.slice(i, i + 500), timeout: 60_000 });
  return stale.length;
}

/** What a suite runs first: connects to `brokers`, deletes the stale test topics, says how many through `log`. */
export async function clearStaleTestTopics(brokers: string[], clientId: string, log: (line: string) => void): Promise<void> {
  const admin = createKafka({ brokers, clientId }).admin();
  await admin.connect();
  try {
    const n = await deleteStaleTestTopics(admin);
    if (n > 0) log(`deleted ${n} topics earlier test runs left behind`);
  } finally {
    await admin.disconnect();
  }
}
