/**
 * Timestamp parsing for CSV input. Files exported from historians, spreadsheets and device
 * logs carry time in a handful of shapes; this accepts those and nothing vaguer (no
 * `Date.parse`, which reads "March 7" or local time depending on the machine).
 *
 * Accepted, per value (one file may mix them):
 * - ISO 8601 date-time: `2026-03-07T12:30:00Z`, `2026-03-07T12:30:00.250+01:00`,
 *   `2026-03-07 12:30:00` (space instead of `T`), minutes-only `2026-03-07T12:30`, or a date
 *   `2026-03-07` (midnight). Without a `Z` or offset the time is UTC, never the machine's zone.
 *   Fractions of a second beyond milliseconds are truncated.
 * - Epoch numbers, decided by magnitude: |v| < 1e11 is seconds (up to the year 5138),
 *   otherwise milliseconds (so epoch milliseconds before 1973-03-03 would be read as seconds).
 *   Decimals and exponents are allowed (`1741350600.5` seconds, `1.7413506E+12` ms, as
 *   spreadsheets write them).
 */

/** Values with a smaller magnitude are epoch seconds; 1e11 ms is 1973-03-03, 1e11 s is year 5138. */
export const EPOCH_SECONDS_BELOW = 1e11;

/** ECMAScript's Date range: ±8.64e15 ms around 1970. */
const MAX_EPOCH_MS = 8.64e15;

const ISO =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?\s*(?:([Zz])|([+-])(\d{2}):?(\d{2}))?$/;
const NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/**
 * Parses one timestamp cell.
 * @returns epoch milliseconds UTC (an integer), or undefined when the text is not a timestamp
 *   of an accepted shape or names an impossible date (2026-02-30, 25:00).
 */
export function parseTimestamp(text: string): number | undefined {
  const t = text.trim();
  if (t === '') return undefined;
  if (NUMBER.test(t)) {
    const v = Number(t);
    const ms = Math.abs(v) < EPOCH_SECONDS_BELOW ? v * 1000 : v;
    if (!Number.isFinite(ms) || Math.abs(ms) > MAX_EPOCH_MS) return undefined;
    return Math.floor(ms);
  }
  const m = ISO.exec(t);
  if (!m) return undefined;
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac = '', z, sign, oh, om] = m;
  // An offset without a time of day (`2026-03-07+01:00`) is not ISO 8601.
  if ((z !== undefined || sign !== undefined) && m[4] === undefined) return undefined;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return undefined;
  const ms = Number(frac.slice(0, 3).padEnd(3, '0'));
  // setUTCFullYear, not Date.UTC, which maps years 0-99 to 1900-1999.
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, ms);
  // Dates roll 2026-02-30 over to March; refuse instead of moving the reading.
  if (date.getUTCDate() !== day) return undefined;
  let epoch = date.getTime();
  if (sign !== undefined) {
    const offH = Number(oh);
    const offM = Number(om);
    if (offH > 23 || offM > 59) return undefined;
    const offsetMs = (offH * 60 + offM) * 60_000;
    epoch += sign === '+' ? -offsetMs : offsetMs;
  }
  return epoch;
}
