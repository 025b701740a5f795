/** What /healthz and /readyz report, from what the service told its Health. */
import { describe, expect, it } from 'vitest';
import { Health } from './health.ts';

describe('Health', () => {
  it('is alive but not ready while starting, ready once told so', () => {
    const h = new Health(60_000, () => 0);
    h.notReady('restoring state');
    expect(h.report()).toEqual({ healthy: true, ready: false, notReady: 'restoring state', down: [] });
    h.ready();
    expect(h.report()).toEqual({ healthy: true, ready: true, down: [] });
  });

  it('turns unhealthy only once a dependency has been down past the limit, and healthy again at its next success', () => {
    let t = 1_000;
    const h = new Health(60_000, () => t);
    h.ready();
    h.down('influxdb', 'ECONNREFUSED');
    t += 30_000;
    h.down('influxdb', 'HTTP 503'); // the outage keeps its start
    expect(h.report()).toMatchObject({ healthy: true, down: [{ dependency: 'influxdb', since: new Date(1_000).toISOString(), error: 'HTTP 503', unhealthy: false }] });
    t += 30_001;
    expect(h.report()).toMatchObject({ healthy: false, ready: true, down: [{ dependency: 'influxdb', unhealthy: true }] });
    h.up('influxdb');
    expect(h.report()).toEqual({ healthy: true, ready: true, down: [] });
  });

  it('combines the health of services sharing a process (the demo): ready when all are, healthy when all are', () => {
    const a = new Health(1_000, () => 0);
    const b = new Health(1_000, () => 5_000);
    a.ready();
    b.notReady('starting');
    b.down('salesforce', 'timeout');
    const both = Health.combine({ scorer: a, 'case-opener': b });
    expect(both.report()).toEqual({ healthy: true, ready: false, notReady: 'case-opener: starting', down: [{ dependency: 'case-opener: salesforce', since: new Date(5_000).toISOString(), error: 'timeout', unhealthy: false }] });
  });
});
