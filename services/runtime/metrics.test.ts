/**
 * The prom-client registry as the services use it: counters, gauges and histograms by name,
 * one metric per name whoever asks, read in process synchronously, exposed in the Prometheus
 * text format on /metrics with /healthz and /readyz beside it.
 */
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { Health } from './health.ts';
import { BUCKETS, MetricsRegistry } from './metrics.ts';

describe('MetricsRegistry', () => {
  it('keeps one metric per name, readable in process by exact labels, by label subset, and in sum', () => {
    const r = new MetricsRegistry();
    r.counter('pdm_dead_letters_total', 'Dead letters').inc({ service: 'scorer', reason: 'malformed_avro' });
    r.counter('pdm_dead_letters_total', 'Dead letters').inc({ service: 'influx-sink', reason: 'invalid_value' }, 2);
    r.counter('pdm_dead_letters_total', '').inc({ service: 'scorer', reason: 'malformed_avro' });
    const c = r.counter('pdm_dead_letters_total', '');
    expect(c.get({ service: 'scorer', reason: 'malformed_avro' })).toBe(2);
    expect(c.get()).toBe(4);
    expect(r.value('pdm_dead_letters_total', { service: 'influx-sink' })).toBe(2);
    expect(r.value('pdm_nothing_total')).toBe(0);
    r.gauge('pdm_consumer_lag', 'Lag').set(7, { service: 's', topic: 't', partition: '0' });
    r.gauge('pdm_consumer_lag', 'Lag').set(3, { service: 's', topic: 't', partition: '0' });
    expect(r.value('pdm_consumer_lag')).toBe(3);
    expect(() => r.gauge('pdm_dead_letters_total', '')).toThrow('metric pdm_dead_letters_total is a Counter, asked for as a Gauge');
  });

  it('takes the description of the service that declares a metric a reader asked for first by name', async () => {
    const r = new MetricsRegistry();
    const read = r.counter('pdm_influx_points_written_total', ''); // a benchmark's reader, before the sink starts
    r.counter('pdm_influx_points_written_total', 'Points InfluxDB accepted').inc({ measurement: 'reading' }, 5);
    expect(read.get()).toBe(5);
    expect(await r.registry.metrics()).toContain('# HELP pdm_influx_points_written_total Points InfluxDB accepted');
    // Never declared with a description: its name stands in, rather than prom-client refusing the update.
    r.gauge('pdm_only_read', '').set(1);
    expect(await r.registry.metrics()).toContain('# HELP pdm_only_read pdm_only_read');
  });

  it('renders the Prometheus text format, histograms with their buckets', async () => {
    const r = new MetricsRegistry();
    r.counter('pdm_x_total', 'X things').inc({ kind: 'a' }, 3);
    const h = r.histogram('pdm_x_seconds', 'X time', BUCKETS.seconds);
    h.observe(0.004, { service: 's' });
    h.observe(2, { service: 's' });
    const text = await r.render();
    expect(text).toContain('# TYPE pdm_x_total counter');
    expect(text).toContain('pdm_x_total{kind="a"} 3');
    expect(text).toContain('pdm_x_seconds_bucket{le="0.005",service="s"} 1');
    expect(text).toContain('pdm_x_seconds_bucket{le="2.5",service="s"} 2');
    expect(text).toContain('pdm_x_seconds_count{service="s"} 2');
    expect(h.get()).toBe(2);
  });

  it('serves /metrics (with process metrics), /healthz and /readyz', async () => {
    const r = new MetricsRegistry(true);
    const health = new Health();
    health.notReady('restoring');
    const server = await r.serve(0, '127.0.0.1', health);
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const metrics = await fetch(`${base}/metrics`);
      expect(metrics.status).toBe(200);
      expect(await metrics.text()).toContain('process_cpu_user_seconds_total');
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      const notReady = await fetch(`${base}/readyz`);
      expect(notReady.status).toBe(503);
      expect(await notReady.json()).toMatchObject({ ready: false, notReady: 'restoring' });
      health.ready();
      expect((await fetch(`${base}/readyz`)).status).toBe(200);
      expect((await fetch(`${base}/other`)).status).toBe(404);
    } finally {
      server.close();
    }
  });
});
