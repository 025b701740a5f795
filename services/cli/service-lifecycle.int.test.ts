/**
 * The shared lifecycle of the service processes, as ops meet it: each of `pdm scorer`,
 * `pdm influx-sink` and `pdm case-opener` answers /healthz at once, /readyz once it does its
 * job, /metrics in the Prometheus format with its own and the process's metrics, and exits 0
 * on SIGTERM; one that cannot start (a wrong InfluxDB token) exits 1 with the setting named,
 * instead of lingering.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serviceEnv, stackInfo, uniqueName } from '../../infra/test/stack-env.ts';
import { freePort, startService, type ServiceName } from '../../infra/test/processes.ts';
import { createKafka } from '../kafka/client.ts';
import { ensureTopics, topicNames } from '../kafka/topics.ts';

const prefix = `${uniqueName('life')}.`;
let env: Record<string, string>;

beforeAll(async () => {
  const s = stackInfo();
  const kafka = createKafka({ brokers: s.kafka.brokers, clientId: 'lifecycle-it' });
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, topicNames(prefix), { partitions: 2 });
  await admin.disconnect();
  env = serviceEnv(s, prefix, 2);
});

afterAll(() => undefined);

async function waitFor(what: string, probe: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await probe().catch(() => false))) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const EXPECTED: Record<ServiceName, string> = {
  scorer: 'pdm_scorer_restore_seconds',
  'influx-sink': 'pdm_influx_sink_paused',
  'case-opener': 'pdm_case_opener_salesforce_logins',
};

describe('service lifecycle', () => {
  it.each(['scorer', 'influx-sink', 'case-opener'] as ServiceName[])('%s: alive at once, ready when it works, metrics, and exit 0 on SIGTERM', async (service) => {
    const p = await startService(service, 'life', env);
    const base = `http://127.0.0.1:${p.metricsPort}`;
    try {
      await waitFor(`${service} /healthz`, async () => (await fetch(`${base}/healthz`)).status === 200, 30_000);
      await waitFor(`${service} /readyz`, async () => (await fetch(`${base}/readyz`)).status === 200);
      const ready = (await (await fetch(`${base}/readyz`)).json()) as { ready: boolean; healthy: boolean; down: unknown[] };
      expect(ready).toMatchObject({ ready: true, healthy: true, down: [] });
      const text = await (await fetch(`${base}/metrics`)).text();
      expect(text).toContain(`# TYPE ${EXPECTED[service]} gauge`);
      expect(text).toContain('process_resident_memory_bytes');
      expect(text).toContain('nodejs_eventloop_lag_seconds');
    } finally {
      p.child.kill('SIGTERM');
    }
    const code = await new Promise<number | null>((r) => p.child.once('exit', (c) => r(c)));
    expect(code).toBe(0);
  });

  it('a service that cannot start exits 1 with the setting named, and does not linger', async () => {
    const p = await startService('influx-sink', 'bad', { ...env, PDM_INFLUX_TOKEN: 'pdm:wrong' });
    const code = await new Promise<number | null>((r) => p.child.once('exit', (c) => r(c)));
    expect(code).toBe(1);
    expect(p.tail.join('\n')).toContain('check influx.token');
  });

  it('refuses a bad metrics port at once (usage, exit 2)', async () => {
    const port = await freePort();
    const { spawnSync } = await import('node:child_process');
    const { join } = await import('node:path');
    const r = spawnSync(process.execPath, [join(import.meta.dirname, 'bin.mjs'), 'scorer', '--metrics-port', 'x'], { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 30_000 });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--metrics-port must be a TCP port');
    expect(port).toBeGreaterThan(0);
  });
});
