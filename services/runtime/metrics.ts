/**
 * Process metrics for ops: counters and gauges with labels, served in the Prometheus text
 * format on GET /metrics when a port is configured (PDM_METRICS_PORT), and readable in
 * process (the demo's progress line reads them).
 */
import { createServer, type Server } from 'node:http';

type Labels = Readonly<Record<string, string>>;

function labelKey(labels: Labels): string {
  const keys = Object.keys(labels).sort();
  return keys.map((k) => `${k}="${String(labels[k]).replace(/["\\\n]/g, '_')}"`).join(',');
}

export class Metric {
  private readonly values = new Map<string, number>();
  constructor(readonly name: string, readonly help: string, readonly type: 'counter' | 'gauge') {}
  inc(labels: Labels = {}, by = 1): void {
    const k = labelKey(labels);
    this.values.set(k, (this.values.get(k) ?? 0) + by);
  }
  set(value: number, labels: Labels = {}): void {
    this.values.set(labelKey(labels), value);
  }
  /** The value for exactly these labels, or the sum over all label sets when none are given. */
  get(labels?: Labels): number {
    if (labels) return this.values.get(labelKey(labels)) ?? 0;
    let sum = 0;
    for (const v of this.values.values()) sum += v;
    return sum;
  }
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} ${this.type}`];
    for (const [k, v] of this.values) lines.push(`${this.name}${k ? `{${k}}` : ''} ${v}`);
    return lines.join('\n');
  }
}

export class MetricsRegistry {
  private readonly metrics = new Map<string, Metric>();
  counter(name: string, help: string): Metric {
    return this.get(name, help, 'counter');
  }
  gauge(name: string, help: string): Metric {
    return this.get(name, help, 'gauge');
  }
  private get(name: string, help: string, type: 'counter' | 'gauge'): Metric {
    let m = this.metrics.get(name);
    if (!m) {
      m = new Metric(name, help, type);
      this.metrics.set(name, m);
    }
    return m;
  }
  render(): string {
    return `${[...this.metrics.values()].map((m) => m.render()).join('\n')}\n`;
  }
  /** Serves GET /metrics on 127.0.0.1:port (0 picks a free port). */
  serve(port: number, host = '127.0.0.1'): Promise<Server> {
    const server = createServer((req, res) => {
      if (req.url === '/metrics') {
        res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(this.render());
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
