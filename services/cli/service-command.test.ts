import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const BIN = join(import.meta.dirname, 'bin.mjs');
const run = (args: string[], env: Record<string, string>) =>
  spawnSync(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 30_000 });

describe('service commands refuse bad configuration at start', () => {
  it('names every bad variable at once and exits 1 without connecting anywhere', () => {
    const r = run(['scorer'], { PDM_KAFKA_BROKERS: 'not-a-broker', PDM_PARTITIONS: '0', PDM_REGISTRY_URL: 'ftp://x' });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('pdm scorer: invalid configuration:');
    expect(r.stderr).toContain('PDM_KAFKA_BROKERS: "not-a-broker" is not host:port');
    expect(r.stderr).toContain('PDM_PARTITIONS: must be an integer 1-1000');
    expect(r.stderr).toContain('PDM_REGISTRY_URL=ftp://x: must be an http(s) URL');
  });
  it('rejects an invalid detection config file with its path and reason', () => {
    const r = run(['case-opener', '--config', join(import.meta.dirname, 'no-such-config.json')], {});
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/pdm case-opener: invalid configuration:\n {2}- .*no-such-config\.json: cannot read it \(no such file\)/);
  });
  it('rejects a bad option as a usage error', () => {
    const r = run(['influx-sink', '--metrics-port', 'abc'], {});
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('pdm influx-sink: --metrics-port must be a TCP port');
  });
});
