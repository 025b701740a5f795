/**
 * What /healthz and /readyz answer, kept by the service itself as things happen:
 * - ready: the service does its job now (the scorer once it restored its partitions' states,
 *   the sink and the case opener once their consumer joined its group, the web once it listens);
 *   a load balancer or a rolling deployment waits for it;
 * - healthy: no dependency the service needs has been lost for longer than `unhealthyAfterMs`
 *   (Kafka, the registry, InfluxDB, Salesforce: reported down when a call to it fails, up at
 *   its next success). A short outage is the services' own business (they retry, pause and
 *   hold their offsets): only one that lasts makes the process unhealthy, and a supervisor may
 *   then restart it.
 * No clock of its own beyond `now`, injectable for tests.
 */

export interface HealthReport {
  healthy: boolean;
  ready: boolean;
  /** Why it is not ready, when it is not. */
  notReady?: string;
  /** Dependencies currently down, with since when (ISO time) and the last error. */
  down: { dependency: string; since: string; error: string; unhealthy: boolean }[];
}

/** Anything that answers /healthz and /readyz. */
export interface HealthSource {
  report(): HealthReport;
}

export class Health implements HealthSource {
  /** The health of several services in one process (the demo): ready when all are, healthy when all are. */
  static combine(parts: Readonly<Record<string, HealthSource>>): HealthSource {
    return {
      report(): HealthReport {
        const reports = Object.entries(parts).map(([name, h]) => [name, h.report()] as const);
        const notReady = reports.filter(([, r]) => !r.ready).map(([name, r]) => `${name}: ${r.notReady ?? 'not ready'}`);
        return {
          healthy: reports.every(([, r]) => r.healthy),
          ready: notReady.length === 0,
          ...(notReady.length ? { notReady: notReady.join('; ') } : {}),
          down: reports.flatMap(([name, r]) => r.down.map((d) => ({ ...d, dependency: `${name}: ${d.dependency}` }))),
        };
      },
    };
  }

  private readyNow = false;
  private why = 'starting';
  private readonly lost = new Map<string, { since: number; error: string }>();

  /**
   * @param unhealthyAfterMs a dependency down for longer than this makes the service unhealthy (default 60 s)
   */
  constructor(
    private readonly unhealthyAfterMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  ready(): void {
    this.readyNow = true;
    this.why = '';
  }

  notReady(why: string): void {
    this.readyNow = false;
    this.why = why;
  }

  /** A call to `dependency` failed; the first failure of an outage is its start. */
  down(dependency: string, error: string): void {
    const cur = this.lost.get(dependency);
    if (cur) cur.error = error;
    else this.lost.set(dependency, { since: this.now(), error });
  }

  /** A call to `dependency` succeeded: whatever outage it had is over. */
  up(dependency: string): void {
    this.lost.delete(dependency);
  }

  report(): HealthReport {
    const t = this.now();
    const down = [...this.lost].map(([dependency, d]) => ({ dependency, since: new Date(d.since).toISOString(), error: d.error.slice(0, 300), unhealthy: t - d.since > this.unhealthyAfterMs }));
    return { healthy: down.every((d) => !d.unhealthy), ready: this.readyNow, ...(this.readyNow ? {} : { notReady: this.why }), down };
  }
}
