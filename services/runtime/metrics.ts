/**
 * Metrics for ops, through prom-client: counters, gauges and histograms with labels, the
 * process's own metrics (CPU, memory, event-loop lag, GC), served in the Prometheus text format
 * on GET /metrics beside the health endpoints (health.ts), and readable in process (the demo's
 * status and the tests read counters synchronously, which prom-client's async get() cannot
 * do: each wrapper keeps the values of its label sets as it updates them).
 *
 * A metric's label names are fixed by its first update (prom-client needs them when the metric
 * is created); the same name asked for twice, by two services in one process, is one metric.
 */
import { createServer, type Server } from 'node:http';
import client from 'prom-client';
import type { HealthSource } from './health.ts';

type Labels = Readonly<Record<string, string>>;

function labelKey(labels: Labels): string {
  const keys = Object.keys(labels).sort();
  return keys.map((k) => `${k}=${labels[k]}`).join(',');
}

/** Common part of the wrappers: the prom-client metric is made at the first update, with that update's label names. */
abstract class Wrapped<M extends client.Counter | client.Gauge | client.Histogram> {
  protected metric: M | undefined;
  protected readonly values = new Map<string, number>();
  /** The label sets of `values`, by the same keys. */
  protected readonly labelSets = new Map<string, Labels>();
  constructor(
    readonly name: string,
    /** Its description; a reader that asks for the metric by name first may leave it empty (see MetricsRegistry.get). */
    public help: string,
    protected readonly registry: client.Registry,
  ) {}

  protected abstract create(labelNames: string[]): M;

  protected of(labels: Labels): M {
    this.metric ??= this.create(Object.keys(labels).sort());
    return this.metric;
  }

  /** Sum over the label sets that carry every label of `subset` (all of them when it is empty). */
  sum(subset: Labels = {}): number {
    let total = 0;
    for (const [k, v] of this.values) {
      const ls = this.labelSets.get(k)!;
      if (Object.entries(subset).every(([name, value]) => ls[name] === value)) total += v;
    }
    return total;
  }

  protected remember(labels: Labels, value: number): void {
    const k = labelKey(labels);
    if (!this.labelSets.has(k)) this.labelSets.set(k, { ...labels });
    this.values.set(k, value);
  }

  /** The value for exactly these labels, or the sum over all label sets when none are given. */
  get(labels?: Labels): number {
    if (labels) return this.values.get(labelKey(labels)) ?? 0;
    let sum = 0;
    for (const v of this.values.values()) sum += v;
    return sum;
  }
}

export class Counter extends Wrapped<client.Counter> {
  protected create(labelNames: string[]): client.Counter {
    return new client.Counter({ name: this.name, help: this.help || this.name, labelNames, registers: [this.registry] });
  }

  inc(labels: Labels = {}, by = 1): void {
    if (by === 0) return;
    this.of(labels).inc(labels, by);
    this.remember(labels, this.get(labels) + by);
  }
}

export class Gauge extends Wrapped<client.Gauge> {
  protected create(labelNames: string[]): client.Gauge {
    return new client.Gauge({ name: this.name, help: this.help || this.name, labelNames, registers: [this.registry] });
  }

  set(value: number, labels: Labels = {}): void {
    this.of(labels).set(labels, value);
    this.remember(labels, value);
  }

  inc(labels: Labels = {}, by = 1): void {
    this.set(this.get(labels) + by, labels);
  }
}

export class Histogram extends Wrapped<client.Histogram> {
  constructor(
    name: string,
    help: string,
    registry: client.Registry,
    private readonly buckets: readonly number[],
  ) {
    super(name, help, registry);
  }

  protected create(labelNames: string[]): client.Histogram {
    return new client.Histogram({ name: this.name, help: this.help || this.name, labelNames, buckets: [...this.buckets], registers: [this.registry] });
  }

  /** Records one observation; get() returns how many there were. */
  observe(value: number, labels: Labels = {}): void {
    this.of(labels).observe(labels, value);
    this.remember(labels, this.get(labels) + 1);
  }
}

/** Bucket sets shared by the services' histograms. */
export const BUCKETS = Object.freeze({
  /** Durations of batch work and round trips, seconds: 1 ms to 30 s. */
  seconds: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  /** Records or points per batch. */
  size: [1, 10, 50, 100, 500, 1_000, 5_000, 10_000, 20_000, 50_000],
});

/** @deprecated the former name of Counter | Gauge; kept for the call sites that type a metric loosely. */
export type Metric = Counter | Gauge;

export class MetricsRegistry {
  readonly registry = new client.Registry();
  private readonly metrics = new Map<string, Counter | Gauge | Histogram>();

  /** @param processMetrics also collect the process's CPU, memory, event-loop lag and GC (a service process). */
  constructor(processMetrics = false) {
    if (processMetrics) client.collectDefaultMetrics({ register: this.registry });
  }

  counter(name: string, help: string): Counter {
    return this.get(name, help, () => new Counter(name, help, this.registry), Counter);
  }

  gauge(name: string, help: string): Gauge {
    return this.get(name, help, () => new Gauge(name, help, this.registry), Gauge);
  }

  histogram(name: string, help: string, buckets: readonly number[]): Histogram {
    return this.get(name, help, () => new Histogram(name, help, this.registry, buckets), Histogram);
  }

  private get<T extends Counter | Gauge | Histogram>(name: string, help: string, make: () => T, kind: abstract new (...args: never[]) => T): T {
    const m = this.metrics.get(name);
    if (m) {
      if (!(m instanceof kind)) throw new Error(`metric ${name} is a ${m.constructor.name}, asked for as a ${kind.name}`);
      // A test or benchmark may ask for a metric by name before the service declares it, with
      // no description: the service's description is the one scraped.
      if (!m.help) m.help = help;
      return m as T;
    }
    const made = make();
    this.metrics.set(name, made);
    return made;
  }

  /** In process: the sum of metric `name` over the label sets carrying `subset` (0 when no such metric). */
  value(name: string, subset: Labels = {}): number {
    return this.metrics.get(name)?.sum(subset) ?? 0;
  }

  /** The Prometheus text exposition of every metric. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  /**
   * Serves GET /metrics, and /healthz and /readyz from `health` (health.ts), on host:port
   * (0 picks a free port). The host is 127.0.0.1 unless told otherwise: a container's probes
   * need the pod's address (0.0.0.0).
   */
  serve(port: number, host = '127.0.0.1', health?: HealthSource): Promise<Server> {
    const server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (path === '/metrics') {
        this.render().then(
          (text) => res.writeHead(200, { 'content-type': this.registry.contentType }).end(text),
          (err: unknown) => res.writeHead(500).end(String(err)),
        );
      } else if (health && (path === '/healthz' || path === '/readyz')) {
        const r = health.report();
        const ok = path === '/healthz' ? r.healthy : r.ready && r.healthy;
        res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' }).end(`${JSON.stringify(r)}\n`);
      } else {
        res.writeHead(404).end();
      }
    });
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve(server));
    });
  }
}
