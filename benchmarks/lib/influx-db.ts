/**
 * Throwaway InfluxDB databases for benchmarks and tests, so a run never touches anyone
 * else's data. Free of argument parsing, unlike the e2e bench's modules, so tests and other
 * benchmarks can import it.
 */
import type { InfluxConnection } from '../../services/kafka/env.ts';

/**
 * A throwaway InfluxDB database (`CREATE DATABASE` on 1.8's /query; the v2 write API then
 * takes `<name>/autogen` as its bucket). Dropped by `drop()`.
 */
export interface BenchDatabase {
  influx: InfluxConnection;
  drop(): Promise<void>;
}

export async function benchDatabase(base: InfluxConnection, name: string): Promise<BenchDatabase> {
  const q = async (statement: string) => {
    const res = await fetch(`${base.url}/query?q=${encodeURIComponent(statement)}`, {
      method: 'POST',
      headers: { authorization: `Token ${base.token}` },
      signal: AbortSignal.timeout(30_000),
    });
    if (!res.ok) throw new Error(`InfluxDB ${statement}: HTTP ${res.status} ${await res.text()}`);
  };
  if (!/^[a-z0-9_]+$/.test(name)) throw new Error(`bench database name ${name}: letters, digits and _ only`);
  await q(`CREATE DATABASE ${name}`);
  return { influx: { ...base, bucket: `${name}/autogen` }, drop: () => q(`DROP DATABASE ${name}`) };
}
