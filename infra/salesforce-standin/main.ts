/**
 * Command line of the Salesforce stand-in, as the local stack launches it:
 *   node --import tsx infra/salesforce-standin/main.ts --port 8443 --instance-port 8444
 *        --data-dir DIR [--api-limit 15000] [--strict] [--no-field-service]
 * --port is the login host, --instance-port the org's My Domain host (API calls go there).
 * Runs in the foreground, prints one line per request to stdout, and on SIGTERM/SIGINT stops
 * accepting, flushes its data file and exits 0.
 */
import { startServer } from './server.ts';

function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function fail(message: string): never {
  process.stderr.write(`salesforce stand-in: ${message}\nusage: main.ts --port N --instance-port N --data-dir DIR [--api-limit N] [--strict] [--no-field-service]\n`);
  process.exit(2);
}

const isPort = (p: number): boolean => Number.isInteger(p) && p >= 0 && p <= 65535;
const port = Number(argValue('--port'));
const instancePort = Number(argValue('--instance-port') ?? 0);
const dataDir = argValue('--data-dir');
const apiLimit = argValue('--api-limit') === undefined ? undefined : Number(argValue('--api-limit'));
if (!isPort(port)) fail(`--port must be a TCP port, got ${String(argValue('--port'))}`);
if (!isPort(instancePort)) fail(`--instance-port must be a TCP port, got ${String(argValue('--instance-port'))}`);
if (!dataDir) fail('--data-dir is required');
if (apiLimit !== undefined && (!Number.isInteger(apiLimit) || apiLimit < 1)) fail('--api-limit must be a positive integer');

const server = await startServer({
  port,
  instancePort,
  dataDir,
  strict: process.argv.includes('--strict'),
  fieldService: !process.argv.includes('--no-field-service'),
  ...(apiLimit !== undefined ? { apiLimit } : {}),
  log: (line) => process.stdout.write(`${line}\n`),
}).catch((err: unknown) => fail(`cannot start on 127.0.0.1:${port}/${instancePort}: ${(err as Error).message}`));
process.stdout.write(`salesforce stand-in: login host ${server.loginUrl}, My Domain host ${server.instanceUrl} (data: ${dataDir}, org ${server.store.orgId})\n`);

let stopping = false;
for (const sig of ['SIGTERM', 'SIGINT'] as const) {
  process.on(sig, () => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`salesforce stand-in: ${sig}, stopping\n`);
    server.close().then(() => process.exit(0), (err: unknown) => {
      process.stderr.write(`salesforce stand-in: error while stopping: ${String(err)}\n`);
      process.exit(1);
    });
  });
}
