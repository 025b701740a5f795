/**
 * The stack orchestrator's own behaviour, on a private stack folder and ports so it never
 * touches the stack the other tests use: a second up is a no-op, down stops only what the
 * stack started, a taken port and a bad port variable are clear errors.
 */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StackError } from '../stack/part.ts';
import { stackPorts } from '../stack/paths.ts';
import { down, status, up } from '../stack/stack.ts';
import { freePort } from './processes.ts';

describe('stack orchestrator', () => {
  const saved = { dir: process.env.PDM_STACK_DIR, port: process.env.PDM_SF_PORT };
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pdm-stack-test-'));
    process.env.PDM_STACK_DIR = dir;
    process.env.PDM_SF_PORT = String(await freePort());
  });
  afterAll(async () => {
    await down({ progress: () => {} });
    process.env.PDM_STACK_DIR = saved.dir;
    if (saved.port === undefined) delete process.env.PDM_SF_PORT;
    else process.env.PDM_SF_PORT = saved.port;
    rmSync(dir, { recursive: true, force: true });
  });

  it('starts a part, treats a second up as a no-op, and stops only what it started', async () => {
    const lines: string[] = [];
    await up({ only: ['salesforce'], progress: (l) => lines.push(l) });
    expect(lines.some((l) => /\[salesforce\] ready in/.test(l))).toBe(true);
    expect((await status()).salesforce.up).toBe(true);
    lines.length = 0;
    await up({ only: ['salesforce'], progress: (l) => lines.push(l) });
    expect(lines).toEqual(['[salesforce] already up']);

    // A pid file naming a process the stack did not start (this test runner) is left alone.
    mkdirSync(join(dir, 'run'), { recursive: true });
    writeFileSync(join(dir, 'run', 'kafka.pid'), JSON.stringify({ pid: process.pid, command: '/no/such/java', startedAt: '' }));
    lines.length = 0;
    await down({ progress: (l) => lines.push(l) });
    expect(lines).toContain('[kafka] not running (stale pid file removed)');
    expect(lines).toContain('[salesforce] stopped');
    expect((await status()).salesforce.up).toBe(false);
  });

  it('refuses a port taken by another process, naming the part and the port', async () => {
    const port = Number(process.env.PDM_SF_PORT);
    const blocker: Server = createServer();
    await new Promise<void>((r) => blocker.listen(port, '127.0.0.1', r));
    try {
      const err = await up({ only: ['salesforce'], progress: () => {} }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StackError);
      expect((err as Error).message).toBe(
        `salesforce: port ${port} on 127.0.0.1 is already taken by a process the stack did not start; stop it or choose other ports (PDM_*_PORT variables)`,
      );
    } finally {
      await new Promise((r) => blocker.close(r));
    }
  });

  it('rejects a malformed or duplicated port variable', () => {
    expect(() => stackPorts({ PDM_KAFKA_PORT: 'ninety' })).toThrow('config: PDM_KAFKA_PORT="ninety" is not a TCP port (1-65535)');
    expect(() => stackPorts({ PDM_INFLUX_PORT: '9092' })).toThrow('config: PDM_INFLUX_PORT and PDM_KAFKA_PORT both use port 9092');
  });
});
