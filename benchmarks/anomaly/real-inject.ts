/**
 * Labelled anomalies on a real background (real-series.ts): copies of the recorded series,
 * each with 0 to 3 anomalies of the corpus's kinds (corpus.ts) injected after its learning
 * share, windows apart, so the product's detection can be measured on noise, cycles and
 * trends this team did not generate. Pure and deterministic for a seed.
 *
 * Sizes follow the corpus's rules, with the background's scales estimated from its learning
 * share (the first 15%, before any anomaly):
 *  - noise: the median absolute step / 0.6745 / √2 (a robust deviation of the noise alone, a
 *    slow cycle or trend barely moving it);
 *  - natural: the largest departure of a value from the middle of its six neighbours (the
 *    largest healthy excursion the series showed);
 *  - structure: the values' standard deviation (the size of the cycle, trend or seasons).
 * A spike is max(6–12 noise, 1.2–2 natural); a sustained change (shift, oscillation, a
 * drift's end, 1.5–2.5 times it) max(6–12 noise, 0.5–1 natural, 0.2–0.5 structure). On a
 * series with a floor (wind, precipitation) changes go upward only. A missing daily pattern
 * replaces a day by its mean plus half the local noise (the cycle gone, the noise kept).
 */
import { Rng, deriveSeed } from '../../services/simulator/prng.ts';
import { ANOMALY_KINDS, LEARNING_SHARE, shiftSize, spikeSize, windowPlan, type AnomalyKind, type LabelledAnomaly } from './corpus.ts';
import type { Background } from './real-series.ts';

/** A background with injected, labelled anomalies. */
export interface RealVariant {
  id: string;
  background: string;
  ts: Float64Array;
  values: Float64Array;
  anomalies: LabelledAnomaly[];
}

/** The background's scales over its learning share (see the file header). */
export function backgroundScales(values: Float64Array): { noise: number; natural: number; structure: number } {
  const m = Math.max(8, Math.floor(LEARNING_SHARE * values.length));
  const steps: number[] = [];
  for (let i = 1; i < m; i++) steps.push(Math.abs(values[i]! - values[i - 1]!));
  steps.sort((a, b) => a - b);
  const noise = Math.max(1e-9, steps[steps.length >> 1]! / 0.6745 / Math.SQRT2);
  let natural = 0;
  for (let i = 3; i < m - 3; i++) {
    const nb = [values[i - 3]!, values[i - 2]!, values[i - 1]!, values[i + 1]!, values[i + 2]!, values[i + 3]!].sort((a, b) => a - b);
    const dev = Math.abs(values[i]! - (nb[2]! + nb[3]!) / 2);
    if (dev > natural) natural = dev;
  }
  let sum = 0;
  for (let i = 0; i < m; i++) sum += values[i]!;
  const mean = sum / m;
  let ss = 0;
  for (let i = 0; i < m; i++) ss += (values[i]! - mean) ** 2;
  return { noise, natural, structure: Math.sqrt(ss / m) };
}

/** `count` copies of the background, each with its anomalies; the same for a seed. */
export function injectVariants(bg: Background, seed: number, count: number): RealVariant[] {
  const n = bg.values.length;
  const { noise, natural, structure } = backgroundScales(bg.values);
  const kinds = ANOMALY_KINDS.filter((k) => k !== 'missing_daily' || bg.perDay !== undefined);
  const out: RealVariant[] = [];
  for (let v = 0; v < count; v++) {
    const rng = new Rng(deriveSeed(seed, v));
    const x = Float64Array.from(bg.values);
    const k = rng.chance(0.15) ? 0 : rng.int(1, 3);
    const picked: AnomalyKind[] = Array.from({ length: k }, () => rng.pick(kinds));
    const { w, from, seg } = windowPlan(n, k);
    const anomalies: LabelledAnomaly[] = [];
    picked.forEach((kind, j) => {
      const win = kind === 'missing_daily' ? bg.perDay! : w;
      const lo = from + j * seg;
      const hi = lo + seg - win - 1;
      const start = hi > lo ? rng.int(lo, hi) : lo;
      const end = Math.min(n, start + win);
      const sign = bg.floor !== undefined || rng.chance(0.5) ? 1 : -1;
      const spike = (): number => spikeSize(rng, noise, natural);
      const shift = (): number => shiftSize(rng, noise, natural, structure);
      const local = (i: number): number => (x[Math.max(0, i - 1)]! + x[Math.min(n - 1, i + 1)]!) / 2;
      switch (kind) {
        case 'spike':
          x[start]! += sign * spike();
          break;
        case 'dip': {
          // Downward where the series may go down; a series with a floor gets a raised stretch instead.
          const d = rng.int(3, Math.max(3, Math.min(20, Math.floor(win / 5))));
          const size = spike();
          for (let i = start; i < Math.min(n, start + d); i++) x[i]! += bg.floor !== undefined ? size : -size;
          break;
        }
        case 'level_shift': {
          const size = shift();
          for (let i = start; i < n; i++) x[i]! += sign * size;
          break;
        }
        case 'variance': {
          const f = rng.uniform(3, 6);
          const base = Float64Array.from(x.subarray(Math.max(0, start - 1), Math.min(n, end + 1)));
          const at = (i: number): number => base[i - Math.max(0, start - 1)]!;
          for (let i = start; i < end; i++) {
            const mid = (at(Math.max(0, i - 1)) + at(Math.min(n - 1, i + 1))) / 2;
            x[i] = mid + (at(i) - mid) * f;
            if (bg.floor !== undefined && x[i]! < bg.floor) x[i] = bg.floor;
          }
          break;
        }
        case 'shape': {
          const amp = shift() / 2;
          const per = rng.uniform(8, 30);
          // On a series with a floor the oscillation is a train of upward bumps.
          for (let i = start; i < end; i++) {
            const wave = Math.sin((2 * Math.PI * (i - start)) / per);
            x[i]! += amp * (bg.floor !== undefined ? Math.abs(wave) : wave);
          }
          break;
        }
        case 'drift': {
          const size = rng.uniform(1.5, 2.5) * shift();
          for (let i = start; i < n; i++) x[i]! += sign * size * Math.min(1, (i - start) / win);
          break;
        }
        case 'burst': {
          const spikes = rng.int(3, 8);
          const span = Math.max(spikes, Math.floor(win / 4));
          for (let q = 0; q < spikes; q++) {
            const i = q === 0 ? start : start + rng.int(1, span - 1);
            x[i]! += (bg.floor !== undefined || rng.chance(0.5) ? 1 : -1) * rng.uniform(0.8, 1.2) * spike();
          }
          break;
        }
        case 'missing_daily': {
          let s = 0;
          for (let i = start; i < end; i++) s += x[i]!;
          const mean = s / (end - start);
          const resid = Array.from({ length: end - start }, (_, q) => x[start + q]! - local(start + q));
          for (let i = start; i < end; i++) x[i] = mean + 0.5 * resid[i - start]!;
          break;
        }
      }
      anomalies.push({ kind, start, end });
    });
    if (bg.floor !== undefined) for (let i = 0; i < n; i++) if (x[i]! < bg.floor) x[i] = bg.floor;
    out.push({ id: `${bg.id}#${v}`, background: bg.id, ts: bg.ts, values: x, anomalies });
  }
  return out;
}
