/**
 * The Apache Kafka part of the local stack: one KRaft node (broker and controller in the same
 * JVM) run straight from the official jars on Maven Central, no Docker and no tarball.
 *
 * - install(): Maven's dependency plugin copies `org.apache.kafka:kafka_2.13` and its runtime
 *   dependencies, plus the SLF4J → log4j2 binding, into `<cacheDir>/<version>/libs`, with its
 *   own local repository under `<cacheDir>/m2` so nothing leaks into ~/.m2.
 * - prepare(): writes `server.properties` and `log4j2.properties` into the data dir and formats
 *   the storage once.
 * - launch(): `java -cp <libs>/* kafka.Kafka server.properties`, logging to stdout.
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
import { copyFile, mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import { runInstallStep } from '../install-step.ts';
import { StackError } from '../part.ts';
import type { LaunchSpec, Part, PartContext } from '../part.ts';

/** Apache Kafka release the stack runs. Changing it triggers a fresh install into a new cache folder. */
export const KAFKA_VERSION = '4.1.1';
/**
 * log4j2 version Kafka 4.0–4.1 is built against (kafka-server's POM names it). kafka-server
 * already pulls log4j-core in at runtime; the SLF4J 1.x binding is what it leaves out.
 */
export const LOG4J_VERSION = '2.24.3';
/** maven-dependency-plugin pinned: Maven 3.8's default binding is years old. */
const DEPENDENCY_PLUGIN = 'org.apache.maven.plugins:maven-dependency-plugin:3.8.1';
/** JVM heap for the broker, in MB (Kafka's own scripts default to 1 GB). */
export const KAFKA_HEAP_MB = 512;

const PART = 'kafka';
const POM = fileURLToPath(new URL('../../kafka/pom.xml', import.meta.url));
const MARKER = '.installed.json';
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

/** Finds `java` (JAVA_HOME first, like Kafka's scripts) and checks it is 17 or newer. */
function findJava(): string {
  const home = process.env.JAVA_HOME;
  const java = home ? join(home, 'bin', 'java') : 'java';
  const r = spawnSync(java, ['-version'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    throw new StackError(
      PART,
      `cannot run '${java} -version' (${r.error?.message ?? `exit ${r.status}`}): install a Java 17+ JDK (apt-get install openjdk-17-jdk-headless) or set JAVA_HOME`,
    );
  }
  // `java -version` prints e.g. `openjdk version "17.0.15" 2025-04-15` (or "1.8.0_x") on stderr.
  const m = /version "(\d+)(?:\.(\d+))?/.exec(r.stderr);
  const major = m ? (m[1] === '1' ? Number(m[2]) : Number(m[1])) : NaN;
  if (!(major >= 17)) {
    throw new StackError(PART, `Kafka ${KAFKA_VERSION} needs Java 17 or newer, '${java}' is ${m ? major : 'unknown'}: install openjdk-17-jdk-headless or set JAVA_HOME`);
  }
  return java;
}

function checkMaven(): void {
  const r = spawnSync('mvn', ['-v'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    throw new StackError(PART, `cannot run 'mvn -v' (${r.error?.message ?? `exit ${r.status}`}): install Maven 3.8+ (apt-get install maven) to fetch the Kafka jars`);
  }
}

/**
 * Runs Maven, teeing its output into `logFile` and turning it into a few progress lines (one
 * per 100 files downloaded: a cold install fetches about 330 files, POMs included), so a cold
 * install shows it is alive without flooding the terminal.
 */
async function runMaven(args: string[], cwd: string, logFile: string, ctx: PartContext): Promise<void> {
  let downloaded = 0;
  await runInstallStep({
    part: PART,
    command: 'mvn',
    args,
    cwd,
    logFile,
    logMode: 'w',
    onLine: (line) => {
      if (!line.includes('Downloaded from')) return;
      downloaded += 1;
      if (downloaded % 100 === 0) ctx.progress(`${downloaded} files downloaded from Maven Central`);
    },
    failure: `Maven could not fetch the Kafka ${KAFKA_VERSION} jars; is Maven Central reachable?`,
  });
  ctx.progress(`Maven done (${downloaded} files downloaded)`);
}

function isInstalled(ctx: PartContext): boolean {
  // The marker is written last, after the libs folder is complete and renamed into place.
  return existsSync(join(versionDir(ctx), MARKER)) && existsSync(join(libsDir(ctx), `kafka_2.13-${KAFKA_VERSION}.jar`));
}

async function install(ctx: PartContext): Promise<void> {
  findJava();
  if (isInstalled(ctx)) return;
  checkMaven();
  const dir = versionDir(ctx);
  await mkdir(dir, { recursive: true });
  // Maven runs on a copy of the POM in the cache so the checkout stays untouched.
  const pom = join(dir, 'pom.xml');
  await copyFile(POM, pom);
  const staging = join(dir, 'libs.partial');
  await rm(staging, { recursive: true, force: true });
  const logFile = join(dir, 'install.log');
  const started = Date.now();
  ctx.progress(`fetching Apache Kafka ${KAFKA_VERSION} jars from Maven Central (log: ${logFile})`);
  await runMaven(
    [
      '-B',
      '-Dstyle.color=never',
      '-f', pom,
      `-Dmaven.repo.local=${join(ctx.paths.cacheDir, 'm2')}`,
      `-Dkafka.version=${KAFKA_VERSION}`,
      `-Dlog4j.version=${LOG4J_VERSION}`,
      `${DEPENDENCY_PLUGIN}:copy-dependencies`,
      '-DincludeScope=runtime',
      `-DoutputDirectory=${staging}`,
    ],
    dir,
    logFile,
    ctx,
  );
  const jars = (await readdir(staging)).filter((f) => f.endsWith('.jar'));
  for (const required of [`kafka_2.13-${KAFKA_VERSION}.jar`, `log4j-core-${LOG4J_VERSION}.jar`, `log4j-slf4j-impl-${LOG4J_VERSION}.jar`]) {
    if (!jars.includes(required)) {
      throw new StackError(PART, `Maven finished but ${required} is missing from ${staging}`, logFile);
    }
  }
  let bytes = 0;
  for (const jar of jars) bytes += (await stat(join(staging, jar))).size;
  await rm(libsDir(ctx), { recursive: true, force: true });
  await rename(staging, libsDir(ctx));
  await writeFile(
    join(dir, MARKER),
    JSON.stringify({ kafka: KAFKA_VERSION, log4j: LOG4J_VERSION, jars: jars.length, bytes, installedAt: new Date().toISOString() }, null, 2) + '\n',
  );
  ctx.progress(`installed ${jars.length} jars (${(bytes / 1e6).toFixed(0)} MB) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
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
  const java = findJava();
  await mkdir(ctx.paths.dataDir, { recursive: true });
  // Rewritten on every start so port overrides (PDM_KAFKA_PORT, ...) take effect.
  await writeFile(propsFile(ctx), serverProperties(ctx));
  await writeFile(log4jFile(ctx), LOG4J2_PROPERTIES);
  if (existsSync(join(ctx.paths.dataDir, 'data', 'meta.properties'))) return;
  const logFile = join(ctx.paths.dataDir, 'format.log');
  ctx.progress(`formatting KRaft storage in ${join(ctx.paths.dataDir, 'data')}`);
  const r = spawnSync(
    java,
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
    command: findJava(),
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
  // servers compete for the CPU; 90 s leaves room for a slow CI machine.
  readyTimeoutSec: 90,
};
