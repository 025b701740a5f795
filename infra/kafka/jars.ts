/**
 * The Kafka broker's jars as pinned in infra/kafka/jars.lock.json: `org.apache.kafka:kafka_2.13`
 * with its runtime dependency closure and the SLF4J → log4j2 binding, each by coordinates,
 * SHA-256 and size. infra/kafka/pin-jars.ts writes the lock (with Maven, maintainers only);
 * the stack reads it and fetches the jars straight from Maven Central.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { PinnedArtifact } from '../stack/maven-central.ts';

/** Apache Kafka release the stack runs. Changing it means re-running pin-jars.ts. */
export const KAFKA_VERSION = '4.1.1';
/**
 * log4j2 version Kafka 4.0–4.1 is built against (kafka-server's POM names it). kafka-server
 * already pulls log4j-core in at runtime; the SLF4J 1.x binding is what it leaves out.
 */
export const LOG4J_VERSION = '2.24.3';

/** Path of the lock file. */
export const KAFKA_JARS_LOCK = fileURLToPath(new URL('./jars.lock.json', import.meta.url));

export interface JarsLock {
  kafka: string;
  log4j: string;
  repository: string;
  jars: PinnedArtifact[];
}

/**
 * Reads the lock and checks it pins the versions above, with the jars the broker cannot
 * start without.
 * @throws Error naming the mismatch (a lock left behind by a version bump).
 */
export function readJarsLock(file = KAFKA_JARS_LOCK): JarsLock {
  const lock = JSON.parse(readFileSync(file, 'utf8')) as JarsLock;
  if (lock.kafka !== KAFKA_VERSION || lock.log4j !== LOG4J_VERSION) {
    throw new Error(`${file} pins Kafka ${lock.kafka} / log4j ${lock.log4j}, the stack wants ${KAFKA_VERSION} / ${LOG4J_VERSION}: run tsx infra/kafka/pin-jars.ts`);
  }
  const has = (group: string, artifact: string, version: string) =>
    lock.jars.some((j) => j.group === group && j.artifact === artifact && j.version === version && !j.classifier);
  const required: [string, string, string][] = [
    ['org.apache.kafka', 'kafka_2.13', KAFKA_VERSION],
    ['org.apache.logging.log4j', 'log4j-core', LOG4J_VERSION],
    ['org.apache.logging.log4j', 'log4j-slf4j-impl', LOG4J_VERSION],
  ];
  for (const [g, a, v] of required) if (!has(g, a, v)) throw new Error(`${file} lacks ${g}:${a}:${v}`);
  return lock;
}
