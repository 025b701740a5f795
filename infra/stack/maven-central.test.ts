/**
 * The Maven-less fetcher against a small local repository served over HTTP (the Maven 2
 * layout, like Central): a file whose SHA-256 or size differs from its pin is refused and
 * not left on disk, a 404 fails at once, a mirror set by PDM_MAVEN_URL is used. Also checks
 * that the Kafka lock pins the versions the stack runs.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KAFKA_VERSION, LOG4J_VERSION, readJarsLock } from '../kafka/jars.ts';
import { parseListLine } from '../kafka/pin-jars.ts';
import { artifactFileName, artifactUrl, fetchArtifact, type PinnedArtifact } from './maven-central.ts';
import { StackError } from './part.ts';

const BODY = Buffer.from('not really a jar, but bytes all the same\n');
const GOOD: PinnedArtifact = {
  group: 'org.example.tools',
  artifact: 'widget',
  version: '1.2.3',
  sha256: createHash('sha256').update(BODY).digest('hex'),
  bytes: BODY.length,
};

describe('fetchArtifact', () => {
  let server: Server;
  let dir: string;
  let requests: string[];
  const saved = process.env.PDM_MAVEN_URL;
  beforeAll(async () => {
    requests = [];
    server = createServer((req, res) => {
      requests.push(req.url ?? '');
      if (req.url === '/repo/org/example/tools/widget/1.2.3/widget-1.2.3.jar') res.end(BODY);
      else res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    process.env.PDM_MAVEN_URL = `http://127.0.0.1:${(server.address() as { port: number }).port}/repo/`;
    dir = mkdtempSync(join(tmpdir(), 'pdm-maven-test-'));
  });
  afterAll(async () => {
    if (saved === undefined) delete process.env.PDM_MAVEN_URL;
    else process.env.PDM_MAVEN_URL = saved;
    await new Promise((r) => server.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  it('names files and URLs as the Maven 2 layout does', () => {
    expect(artifactFileName({ ...GOOD, classifier: 'all', ext: 'tar.gz' })).toBe('widget-1.2.3-all.tar.gz');
    expect(artifactUrl(GOOD, 'https://repo1.maven.org/maven2')).toBe('https://repo1.maven.org/maven2/org/example/tools/widget/1.2.3/widget-1.2.3.jar');
  });

  it('downloads a file whose digest and size match its pin, from the mirror PDM_MAVEN_URL names', async () => {
    const file = join(dir, 'good.jar');
    await fetchArtifact(GOOD, file, 'kafka');
    expect(readFileSync(file)).toEqual(BODY);
  });

  it('refuses a file whose digest differs from its pin, and leaves nothing behind', async () => {
    const file = join(dir, 'bad.jar');
    const pinned = { ...GOOD, sha256: '0'.repeat(64) };
    const err = await fetchArtifact(pinned, file, 'kafka').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StackError);
    expect((err as Error).message).toBe(
      `kafka: cannot fetch ${process.env.PDM_MAVEN_URL!.replace(/\/$/, '')}/org/example/tools/widget/1.2.3/widget-1.2.3.jar: got ${BODY.length} bytes with SHA-256 ${GOOD.sha256}, the pin says ${BODY.length} bytes with ${'0'.repeat(64)}`,
    );
    expect(existsSync(file)).toBe(false);
  });

  it('fails at once on a 404 instead of retrying', async () => {
    requests.length = 0;
    const missing = { ...GOOD, version: '9.9.9' };
    const err = await fetchArtifact(missing, join(dir, 'missing.jar'), 'registry').catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/^registry: cannot fetch http:\/\/127\.0\.0\.1:\d+\/repo\/org\/example\/tools\/widget\/9\.9\.9\/widget-9\.9\.9\.jar: 404 Not Found \(wrong coordinates, or the mirror lacks it\)$/);
    expect(requests).toEqual(['/repo/org/example/tools/widget/9.9.9/widget-9.9.9.jar']);
  });
});

describe('the Kafka jar lock', () => {
  it('pins the Kafka and log4j versions the stack runs, each jar with a SHA-256', () => {
    const lock = readJarsLock();
    expect([lock.kafka, lock.log4j]).toEqual([KAFKA_VERSION, LOG4J_VERSION]);
    expect(lock.jars.length).toBeGreaterThan(40);
    for (const j of lock.jars) expect(j.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(new Set(lock.jars.map((j) => `${j.group}:${j.artifact}`)).size).toBe(lock.jars.length);
  });

  it('reads Maven dependency:list lines, with and without a classifier', () => {
    expect(parseListLine('   org.lz4:lz4-java:jar:1.8.0:runtime:/m2/org/lz4/lz4-java/1.8.0/lz4-java-1.8.0.jar -- module org.lz4.java [auto]')).toEqual({
      group: 'org.lz4', artifact: 'lz4-java', version: '1.8.0', path: '/m2/org/lz4/lz4-java/1.8.0/lz4-java-1.8.0.jar',
    });
    expect(parseListLine('   io.netty:netty-tcnative:jar:linux-x86_64:2.0.70:compile:/m2/n.jar')).toEqual({
      group: 'io.netty', artifact: 'netty-tcnative', version: '2.0.70', classifier: 'linux-x86_64', path: '/m2/n.jar',
    });
    expect(parseListLine('The following files have been resolved:')).toBeUndefined();
  });
});
