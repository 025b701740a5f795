/**
 * The Salesforce part of the local stack: the stand-in server in infra/salesforce-standin/
 * (Salesforce is a SaaS we cannot reach from here). Nothing to download: it is this repo's
 * own TypeScript, run by Node with the tsx loader resolved from the checkout, listening on
 * 127.0.0.1:<ports.salesforce> (plain HTTP) with its records in the part's data dir.
 *
 * info() gives what a product needs to log in through jsforce's OAuth2 password flow
 * (loginUrl, username, password, clientId, clientSecret); the same keys point at a real org
 * when real credentials are configured instead.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { StackError } from '../part.ts';
import type { LaunchSpec, Part, PartContext } from '../part.ts';
import { STANDIN_CREDENTIALS } from '../../salesforce-standin/server.ts';

const PART = 'salesforce';
const MAIN = fileURLToPath(new URL('../../salesforce-standin/main.ts', import.meta.url));
/** A probe must end well inside the orchestrator's 500 ms probe interval. */
const PROBE_TIMEOUT_MS = 400;

/** Absolute file URL of tsx's ESM loader, resolved from this checkout (so `--import` works from any cwd). */
function tsxLoader(logFile: string): string {
  try {
    return pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  } catch (err) {
    throw new StackError(PART, 'cannot resolve the tsx loader from this checkout: run `npm ci` in the repo root', logFile, { cause: err });
  }
}

function baseUrl(ctx: PartContext): string {
  return `http://127.0.0.1:${ctx.ports.salesforce}`;
}

export const part: Part = {
  name: PART,
  ports: (ctx) => [ctx.ports.salesforce],
  // Nothing to fetch or build; only check that what launch() needs is in the checkout.
  async install(ctx) {
    tsxLoader(ctx.paths.logFile);
    if (!existsSync(MAIN)) throw new StackError(PART, `the stand-in's entry point ${MAIN} is missing from the checkout`, ctx.paths.logFile);
  },
  async prepare(ctx) {
    await mkdir(ctx.paths.dataDir, { recursive: true });
  },
  launch(ctx): LaunchSpec {
    return {
      command: process.execPath,
      args: ['--import', tsxLoader(ctx.paths.logFile), MAIN, '--port', String(ctx.ports.salesforce), '--data-dir', ctx.paths.dataDir],
    };
  },
  async probe(ctx) {
    try {
      const res = await fetch(`${baseUrl(ctx)}/__standin/health`, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
      await res.body?.cancel();
      return res.status === 200;
    } catch {
      return false;
    }
  },
  info(ctx) {
    return { loginUrl: baseUrl(ctx), ...STANDIN_CREDENTIALS };
  },
  readyTimeoutSec: 30,
};
