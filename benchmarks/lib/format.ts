/**
 * Text formatting for benchmark reports: rates, durations, sizes, ratios and target verdicts,
 * aligned so a report reads as a table in a terminal or a CI log.
 */

/** Groups digits: 1234567.8 → "1,234,568". */
export function formatCount(n: number): string {
  return Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : String(n);
}

/** A per-operation time from nanoseconds, in ns, µs or ms with 3 significant digits. */
export function formatNs(ns: number): string {
  if (ns < 1_000) return `${ns.toPrecision(3)} ns`;
  if (ns < 1_000_000) return `${(ns / 1_000).toPrecision(3)} µs`;
  return `${(ns / 1_000_000).toPrecision(3)} ms`;
}

/** Bytes with binary units: 1536 → "1.50 KiB"; exact bytes below 1 KiB. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes;
  let u = 0;
  while (Math.abs(v) >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${Math.round(v)} B` : `${v.toFixed(2)} ${units[u]}`;
}

/** A ratio with 2 decimals and an ×, e.g. "1.37×"; large ones rounded ("412×"). */
export function formatRatio(r: number): string {
  if (!Number.isFinite(r)) return String(r);
  return r >= 100 ? `${Math.round(r)}×` : `${r.toFixed(2)}×`;
}

/** A target: what was measured, the bound and whether it holds. */
export interface TargetCheck {
  /** What the target is about, e.g. "core time / avsc decode time". */
  name: string;
  /** Measured value, already formatted. */
  measured: string;
  /** The bound as text, e.g. "≤ 2×". */
  target: string;
  pass: boolean;
}

/** Renders target checks as aligned lines ending in PASS or MISS. */
export function formatTargets(checks: readonly TargetCheck[]): string {
  const w1 = Math.max(...checks.map((c) => c.name.length));
  const w2 = Math.max(...checks.map((c) => c.measured.length));
  const w3 = Math.max(...checks.map((c) => c.target.length));
  return checks
    .map((c) => `  ${c.name.padEnd(w1)}  ${c.measured.padStart(w2)}  target ${c.target.padEnd(w3)}  ${c.pass ? 'PASS' : 'MISS'}`)
    .join('\n');
}

/** Renders rows of cells as left-aligned columns separated by two spaces (first column indented). */
export function formatTable(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows.map((r) => '  ' + r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n');
}
