/**
 * Child process of the core benchmark: measures the speed figures once (core-speed.ts) in a
 * fresh process and prints them as one JSON line.
 *
 * Usage: node --import tsx benchmarks/lib/core-speed-child.ts ASSETS FLEET_ASSETS
 */
import { measureSpeed } from './core-speed.ts';

const assets = Number(process.argv[2] ?? 10);
const fleetAssets = Number(process.argv[3] ?? 100_000);
if (!(Number.isInteger(assets) && assets > 0 && Number.isInteger(fleetAssets) && fleetAssets > 0)) {
  throw new Error(`core-speed-child: expected two positive integers (assets, fleet assets), got ${process.argv.slice(2).join(' ')}`);
}
process.stdout.write(`${JSON.stringify(measureSpeed({ assets, fleetAssets }))}\n`);
