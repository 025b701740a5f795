/**
 * Maintainer tool, run only when bumping Kafka or log4j: resolves the broker's runtime
 * dependency closure with Maven from infra/kafka/pom.xml and writes the exact list, with
 * each jar's SHA-256 and size, to infra/kafka/jars.lock.json. The stack installs from that
 * list alone (infra/stack/parts/kafka.ts), so users need no Maven; Maven's resolution is
 * trusted once, here, where its result is reviewed as a diff.
 *
 *   tsx infra/kafka/pin-jars.ts      (needs mvn on the PATH and Maven Central)
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KAFKA_JARS_LOCK, KAFKA_VERSION, LOG4J_VERSION, type JarsLock } from './jars.ts';
import type { PinnedArtifact } from '../stack/maven-central.ts';

const POM = fileURLToPath(new URL('./pom.xml', import.meta.url));
const DEPENDENCY_PLUGIN = 'org.apache.maven.plugins:maven-dependency-plugin:3.8.1';

/**
 * One line of `dependency:list -DoutputAbsoluteArtifactFilename=true`:
 * `group:artifact:type[:classifier]:version:scope:/abs/path.jar[ -- module ...]`.
 */
export function parseListLine(line: string): (Omit<PinnedArtifact, 'sha256' | 'bytes'> & { path: string }) | undefined {
  const m = /^\s+([^:\s]+):([^:\s]+):([^:\s]+):(?:([^:\s]+):)?([^:\s]+):(compile|runtime):(\/\S+)/.exec(line);
  if (!m) return undefined;
  const [, group, artifact, type, classifier, version, , path] = m;
  if (type !== 'jar') throw new Error(`unexpected artifact type ${type} in: ${line.trim()}`);
  return { group: group!, artifact: artifact!, version: version!, ...(classifier ? { classifier } : {}), path: path! };
}

function main(): void {
  const work = mkdtempSync(join(tmpdir(), 'pdm-kafka-pin-'));
  try {
    const out = join(work, 'list.txt');
    const r = spawnSync(
      'mvn',
      [
        '-B', '-q', '-Dstyle.color=never', '-f', POM,
        `-Dmaven.repo.local=${join(work, 'm2')}`,
        `-Dkafka.version=${KAFKA_VERSION}`, `-Dlog4j.version=${LOG4J_VERSION}`,
        `${DEPENDENCY_PLUGIN}:list`, '-DincludeScope=runtime', '-DoutputAbsoluteArtifactFilename=true', `-DoutputFile=${out}`,
      ],
      { stdio: 'inherit' },
    );
    if (r.error || r.status !== 0) throw new Error(`mvn dependency:list failed (${r.error?.message ?? `exit ${r.status}`})`);
    const jars: PinnedArtifact[] = [];
    for (const line of readFileSync(out, 'utf8').split('\n')) {
      const dep = parseListLine(line);
      if (!dep) continue;
      const bytes = readFileSync(dep.path);
      const { path: _path, ...coords } = dep;
      jars.push({ ...coords, sha256: createHash('sha256').update(bytes).digest('hex'), bytes: bytes.length });
    }
    jars.sort((a, b) => `${a.group}:${a.artifact}`.localeCompare(`${b.group}:${b.artifact}`));
    const lock: JarsLock = { kafka: KAFKA_VERSION, log4j: LOG4J_VERSION, repository: 'Maven Central', jars };
    writeFileSync(KAFKA_JARS_LOCK, JSON.stringify(lock, null, 2) + '\n');
    process.stderr.write(`pinned ${jars.length} jars (${(jars.reduce((s, j) => s + j.bytes, 0) / 1e6).toFixed(1)} MB) in ${KAFKA_JARS_LOCK}\n`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();
