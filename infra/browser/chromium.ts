/**
 * Debian's chromium for the browser tests, installed by the project like the stack's parts:
 * `ensureChromium()` installs it with apt when /usr/bin/chromium is missing (idempotent; needs
 * root and Debian's package archive, as the development machines and CI have), and
 * `launchChromium()` starts it headless through playwright-core with a fresh profile.
 * Playwright's own browser downloads (`npx playwright install`) are never used: they come
 * from outside the package registries this project may reach.
 *
 * `npm run browser:install` runs the install step alone.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

/** Flags for a quiet, sandbox-free headless run that phones nowhere. */
export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
] as const;

/** The installed chromium's version line, or undefined when it is missing or does not run. */
export function chromiumVersion(): string | undefined {
  if (!existsSync(CHROMIUM)) return undefined;
  const r = spawnSync(CHROMIUM, ['--version'], { encoding: 'utf8', timeout: 30_000 });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/** Installs Debian's chromium when it is not there; returns its version. */
export function ensureChromium(progress: (line: string) => void = () => {}): string {
  const have = chromiumVersion();
  if (have) return have;
  if (process.getuid?.() !== 0) throw new Error(`${CHROMIUM} is missing and installing it needs root: run \`apt-get install -y chromium\` as root`);
  progress('installing Debian chromium with apt (first time only, about a minute)');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [['update'], ['install', '-y', '--no-install-recommends', 'chromium', 'fonts-dejavu-core']]) {
    const r = spawnSync('apt-get', args, { env, encoding: 'utf8', timeout: 600_000 });
    if (r.status !== 0) throw new Error(`apt-get ${args.join(' ')} failed (${r.status ?? r.signal}): ${(r.stderr || r.stdout).trim().split('\n').slice(-5).join('\n')}`);
  }
  const v = chromiumVersion();
  if (!v) throw new Error(`apt-get installed chromium but ${CHROMIUM} --version does not run`);
  return v;
}

/** A headless chromium with a fresh profile; `close()` removes the profile. */
export async function launchChromium(): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  const profile = mkdtempSync(join(tmpdir(), 'pdm-chromium-'));
  // launchPersistentContext is how playwright takes a --user-data-dir of our choosing.
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: [...CHROMIUM_FLAGS], viewport: { width: 1400, height: 900 } });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.stdout.write(`${ensureChromium((l) => process.stderr.write(`${l}\n`))}\n`);
}
