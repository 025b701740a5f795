/**
 * Child process of the core benchmark: holds one million assets' states in memory and
 * reports the process memory they take. It runs apart from the benchmark so the figure is
 * not polluted by fixtures and JIT state of the timing runs.
 *
 * Each asset is a passenger_ev (8 sensors) under the default configuration, scored with a
 * few readings so its state is a live one, not a freshly allocated template. The state's
 * layout is fixed at creation, so a few readings give the steady-state size.
 *
 * Usage: node --expose-gc --import tsx benchmarks/lib/million-assets.ts [ASSETS] [READINGS]
 * Prints one JSON line: {assets, readingsPerAsset, baselineRssBytes, rssBytes, rssDeltaBytes,
 * heapUsedDeltaBytes, externalDeltaBytes, arrayBuffersDeltaBytes, seconds}.
 */
import { DEFAULT_CONFIG, newState, score } from '../../services/core/index.ts';
import type { AssetState, Reading } from '../../services/core/types.ts';
import { evReadings } from './fixtures.ts';

const assets = Number(process.argv[2] ?? 1_000_000);
const readingsPerAsset = Number(process.argv[3] ?? 3);

/** Collects garbage twice (weak references and finalizers need a second pass) if exposed. */
function settle(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('million-assets: run node with --expose-gc so the memory figure is stable');
  gc();
  gc();
}

// A few template readings per asset slot, reused with each asset's id and shifted times.
const template = evReadings(0, 0, readingsPerAsset);
settle();
const before = process.memoryUsage();
const t0 = performance.now();
const states: AssetState[] = new Array(assets);
let checksum = 0;
for (let a = 0; a < assets; a++) {
  const assetId = `ev-${a.toString(36).padStart(6, '0')}`;
  let state = newState(assetId, 'passenger_ev', DEFAULT_CONFIG);
  for (let i = 0; i < readingsPerAsset; i++) {
    const t = template[i]!;
    const reading: Reading = { assetId, assetType: 'passenger_ev', ts: t.ts + (a % 60) * 1000, values: t.values };
    const step = score(state, reading, DEFAULT_CONFIG);
    state = step.state;
    checksum += step.score;
  }
  states[a] = state;
}
const seconds = (performance.now() - t0) / 1000;
settle();
const after = process.memoryUsage();
// states must still be reachable here, or the collector could free them before measuring.
if (states.length !== assets || !Number.isFinite(checksum)) throw new Error('million-assets: lost states');
console.log(
  JSON.stringify({
    assets,
    readingsPerAsset,
    baselineRssBytes: before.rss,
    rssBytes: after.rss,
    rssDeltaBytes: after.rss - before.rss,
    heapUsedDeltaBytes: after.heapUsed - before.heapUsed,
    externalDeltaBytes: after.external - before.external,
    arrayBuffersDeltaBytes: after.arrayBuffers - before.arrayBuffers,
    seconds,
  }),
);
