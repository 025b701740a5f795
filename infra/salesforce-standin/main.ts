/**
 * Command line of the Salesforce stand-in, as the local stack launches it:
 *   node --import tsx infra/salesforce-standin/main.ts --port 8443 --data-dir DIR [--api-limit 15000]
 * Runs in the foreground, prints one line per request to stdout, and on SIGTERM/SIGINT stops
 * accepting, flushes its data file and exits 0.
 */
import { startServer } from './server.ts';

function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function fail(message: string): never {
  process.stderr.write(`salesforce stand-in: ${message}\nusage: main.ts --port N --data-dir DIR [--api-limit N]\n`);
  process.exit(2);
}

const port = Number(argValue('--port'));
const dataDir = argValue('--data-dir');
const apiLimit = argValue('--api-limit') === undefined ? undefined : Number(argValue('--api-limit'));
if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`--port must be a TCP port, got ${String(argValue('--port'))}`);
if (!dataDir) fail('--data-dir is required');
if (apiLimit !== undefined && (!Number.isInteger(apiLimit) || apiLimit < 1)) fail('--api-limit must be a positive integer');

const server = await startServer({
  port,
  dataDir,
  ...(apiLimit !== undefined ? { apiLimit } : {}),
  log: (line) => process.stdout.write(`${line}\n`),
}).catch((err: unknown) => fail(`cannot start on 127.0.0.1:${port}: ${(err as Error).message}`));
process.stdout.write(`salesforce stand-in listening on ${server.url} (data: ${dataDir}, org ${server.store.orgId})\n`);

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
