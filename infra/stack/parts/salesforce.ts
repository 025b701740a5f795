/**
 * The Salesforce part of the local stack: the stand-in server in infra/salesforce-standin/
 * (Salesforce is a SaaS we cannot reach from here). Nothing to download: it is this repo's
 * own TypeScript, run by Node with the tsx loader resolved from the checkout, with its records
 * in the part's data dir. Like an org with My Domain it has two hosts (plain HTTP on
 * loopback): the login host on 127.0.0.1:<ports.salesforce> (PDM_SF_PORT) and the org's My
 * Domain host, where API calls and client-credentials logins go, on PDM_SF_INSTANCE_PORT
 * (default PDM_SF_PORT + 1). PDM_SF_STANDIN_STRICT=1 runs it in strict mode (permissions from
 * the shipped permission set, security token on password logins, every platform rule).
 *
 * info() gives what a product needs to log in (loginUrl, instanceUrl, username, password,
 * securityToken, clientId, clientSecret) and an administrator's login for seeding data; the
 * same keys point at a real org when real credentials are configured instead.
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
/**
 * The local org's API requests per 24 hours (the stand-in's default is 15,000, a small org's).
 * The stand-in keeps its count in the data dir, as an org does across restarts, so a day of
 * test suites, demos and benchmarks on one machine adds up: 15,000 ran out after six suite
 * runs and failed the next with REQUEST_LIMIT_EXCEEDED. This is a large org's allowance; the
 * limit's own behaviour is tested against stand-ins started with small limits.
 */
export const LOCAL_ORG_API_LIMIT = 1_000_000;
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

/** The My Domain host's port: PDM_SF_INSTANCE_PORT, else the login port + 1. */
export function instancePort(ctx: PartContext, env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.PDM_SF_INSTANCE_PORT?.trim();
  if (raw === undefined || raw === '') return ctx.ports.salesforce + 1;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new StackError(PART, `PDM_SF_INSTANCE_PORT=${JSON.stringify(raw)} is not a TCP port (1-65535)`);
  return port;
}

const strict = (env: NodeJS.ProcessEnv = process.env): boolean => /^(1|true|yes)$/i.test(env.PDM_SF_STANDIN_STRICT?.trim() ?? '');

export const part: Part = {
  name: PART,
  ports: (ctx) => [ctx.ports.salesforce, instancePort(ctx)],
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
      args: [
        '--import', tsxLoader(ctx.paths.logFile), MAIN,
        '--port', String(ctx.ports.salesforce), '--instance-port', String(instancePort(ctx)), '--data-dir', ctx.paths.dataDir,
        '--api-limit', String(LOCAL_ORG_API_LIMIT),
        ...(strict() ? ['--strict'] : []),
      ],
    };
  },
  // Ready when both hosts answer (they start one after the other).
  async probe(ctx) {
    const ok = async (base: string) => {
      const res = await fetch(`${base}/__standin/health`, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
      await res.body?.cancel();
      return res.status === 200;
    };
    try {
      return (await ok(baseUrl(ctx))) && (await ok(`http://127.0.0.1:${instancePort(ctx)}`));
    } catch {
      return false;
    }
  },
  info(ctx) {
    return { loginUrl: baseUrl(ctx), instanceUrl: `http://127.0.0.1:${instancePort(ctx)}`, strict: strict(), ...STANDIN_CREDENTIALS };
  },
  readyTimeoutSec: 30,
};
