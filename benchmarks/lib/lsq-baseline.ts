/**
 * The failure-prediction baseline of `npm run eval`: a plain least-squares line over each
 * sensor's last 60 values (the active ones, by the same activeAbove/activeBelow the product
 * is configured with), raising a failure mode when the line reaches the mode's limit within
 * the mode's horizon (or is past it). A raise starts when that first holds and ends when it
 * stops holding; the next time it holds is another raise. No smoothing, no healthy
 * baseline, no learning period beyond the 60 values: what anyone would try first.
 *
 * O(1) per value: a ring of the last 60 (time, value) pairs per tracker with running sums,
 * recomputed exactly from the ring every 60 values so rounding never accumulates.
 */
import { isActive, type CompiledConfig, type Reading } from '../../services/core/index.ts';

/** Values the line is fitted over. */
export const LSQ_WINDOW = 60;
const HOUR_MS = 3_600_000;

interface Ring {
  t: Float64Array;
  x: Float64Array;
  n: number;
  next: number;
  st: number;
  sx: number;
  stt: number;
  stx: number;
  /** Origin of the times (hours), so the sums stay well conditioned. */
  t0: number;
  added: number;
  raised: boolean;
}

/** A baseline raise: asset, mode, time. */
export interface BaselineRaise {
  assetId: string;
  failureMode: string;
  ts: number;
}

/** Least-squares baseline over a fleet's readings, one asset at a time in any interleaving. */
export class LsqBaseline {
  private readonly rings = new Map<string, Ring[]>();
  constructor(private readonly cfg: CompiledConfig) {}

  /** Forgets an asset's history (a repair: its sensors start over, as the product's do). */
  reset(assetId: string): void {
    this.rings.delete(assetId);
  }

  /** Takes one reading; returns the raises it starts. */
  step(r: Reading): BaselineRaise[] {
    const at = this.cfg.assetTypes.get(r.assetType);
    if (!at || at.generic) return [];
    let rings = this.rings.get(r.assetId);
    if (!rings) {
      rings = at.pairs.map(() => ({ t: new Float64Array(LSQ_WINDOW), x: new Float64Array(LSQ_WINDOW), n: 0, next: 0, st: 0, sx: 0, stt: 0, stx: 0, t0: r.ts / HOUR_MS, added: 0, raised: false }));
      this.rings.set(r.assetId, rings);
    }
    const out: BaselineRaise[] = [];
    const fresh = new Array<boolean>(at.failureModes.length).fill(false);
    const holds = new Array<boolean>(at.failureModes.length).fill(false);
    at.pairs.forEach((pr, j) => {
      const mode = at.failureModes[pr.mode]!;
      const sensor = at.sensors[pr.sensor]!;
      const v = r.values[sensor.name];
      if (typeof v !== 'number' || !Number.isFinite(v) || v < sensor.min || v > sensor.max || !isActive(mode, v)) return;
      const g = rings![j]!;
      add(g, r.ts / HOUR_MS, v);
      fresh[pr.mode] = true;
      if (g.n < LSQ_WINDOW) return;
      const n = g.n;
      const den = n * g.stt - g.st * g.st;
      if (!(den > 0)) return;
      const slope = (n * g.stx - g.st * g.sx) / den;
      const intercept = (g.sx - slope * g.st) / n;
      const now = r.ts / HOUR_MS - g.t0;
      const level = intercept + slope * now;
      const sgn = mode.direction === 'rising' ? 1 : -1;
      const rem = sgn * (mode.limit - level);
      if (rem <= 0 || (sgn * slope > 0 && rem / (sgn * slope) <= mode.horizonHours)) holds[pr.mode] = true;
    });
    at.failureModes.forEach((mode, m) => {
      if (!fresh[m]) return;
      const state = rings![at.modePairs[m]![0]!]!;
      if (holds[m] && !state.raised) out.push({ assetId: r.assetId, failureMode: mode.name, ts: r.ts });
      state.raised = holds[m]!;
    });
    return out;
  }
}

function add(g: Ring, tHours: number, x: number): void {
  const t = tHours - g.t0;
  if (g.n === LSQ_WINDOW) {
    const ot = g.t[g.next]!;
    const ox = g.x[g.next]!;
    g.st -= ot;
    g.sx -= ox;
    g.stt -= ot * ot;
    g.stx -= ot * ox;
  } else g.n++;
  g.t[g.next] = t;
  g.x[g.next] = x;
  g.next = (g.next + 1) % LSQ_WINDOW;
  g.st += t;
  g.sx += x;
  g.stt += t * t;
  g.stx += t * x;
  if (++g.added % LSQ_WINDOW === 0) {
    // Exact sums from the ring, re-centred on its oldest time.
    let oldest = Infinity;
    for (let i = 0; i < g.n; i++) if (g.t[i]! < oldest) oldest = g.t[i]!;
    g.t0 += oldest;
    g.st = g.sx = g.stt = g.stx = 0;
    for (let i = 0; i < g.n; i++) {
      const ti = g.t[i]! - oldest;
      g.t[i] = ti;
      g.st += ti;
      g.sx += g.x[i]!;
      g.stt += ti * ti;
      g.stx += ti * g.x[i]!;
    }
  }
}
