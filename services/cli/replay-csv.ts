/**
 * The CSV input of `pdm replay`: history exported from a historian or a data lake, read with
 * `pdm score`'s CSV reader (csv.ts, the same time and value forms) and turned into the
 * scorer step's inputs, in file order, chunk by chunk (memory does not grow with the file).
 *
 * Columns: `timestamp` (required); optional `asset_id` and `asset_type` (one file may hold a
 * fleet; otherwise --asset-id and --asset-type name its one asset); optional `maintenance`
 * (a row naming a repaired failure mode, or `*` for a full service, is a maintenance event,
 * and its sensor cells must be empty); every other column is a sensor. Names are matched
 * case-insensitively, surrounding spaces ignored.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import type { MaintenanceEvent, Reading } from '../core/types.ts';
import type { StepInput } from '../scorer/step.ts';
import { ReplayError } from '../replay/errors.ts';
import { CsvReader, CsvSyntaxError, withHeader } from './csv.ts';
import { parseValue } from './score.ts';
import { parseTimestamp } from './timestamp.ts';

/** Value of the `maintenance` column for a full service (every failure mode). */
export const FULL_SERVICE = '*';

export interface CsvHistoryOptions {
  /** File path, or - for stdin. */
  input: string;
  stdin: Readable;
  /** Asset id of rows without an asset_id column. */
  assetId: string;
  /** Asset type of rows without an asset_type column. */
  assetType: string;
  /** Called with each chunk's inputs, in file order. */
  onChunk: (inputs: StepInput[]) => void;
  /** Called after each chunk with the bytes read and the file's size (undefined for stdin). */
  onProgress?: (bytes: number, size: number | undefined) => void;
}

const RESERVED = ['timestamp', 'asset_id', 'asset_type', 'maintenance'] as const;

/**
 * Reads the file and hands its records on.
 * @returns the records read (readings and maintenance events)
 * @throws ReplayError for an unreadable file, bad CSV, a missing column or a bad cell, with its line
 */
export async function readCsvHistory(o: CsvHistoryOptions): Promise<number> {
  const name = o.input === '-' ? 'stdin' : o.input;
  const fail = (line: number, why: string): never => {
    throw new ReplayError(`pdm replay: ${name}: line ${line}: ${why}`);
  };
  let stream: Readable;
  let size: number | undefined;
  if (o.input === '-') stream = o.stdin;
  else {
    try {
      const st = await stat(o.input);
      if (st.isDirectory()) throw new Error('is a directory');
      size = st.size;
    } catch (err) {
      throw new ReplayError(`pdm replay: cannot read input ${o.input}: ${err instanceof Error ? err.message : String(err)}`);
    }
    stream = createReadStream(o.input, { highWaterMark: 256 * 1024 });
  }

  const col: Partial<Record<(typeof RESERVED)[number], number>> = {};
  let sensors: { name: string; index: number }[] = [];
  let width = 0;
  let records = 0;
  let chunk: StepInput[] = [];
  const src = (line: number) => ({ topic: name, partition: 0, offset: String(line), key: null, value: null });

  const onHeader = (fields: string[]): void => {
    const names = fields.map((f) => f.trim());
    const seen = new Set<string>();
    names.forEach((n, i) => {
      if (n === '') fail(1, `column ${i + 1} has no name`);
      if (seen.has(n.toLowerCase())) fail(1, `column "${n}" appears twice`);
      seen.add(n.toLowerCase());
      const reserved = RESERVED.find((r) => r === n.toLowerCase());
      if (reserved) col[reserved] = i;
    });
    if (col.timestamp === undefined) fail(1, `no "timestamp" column in the header (columns: ${names.join(', ')})`);
    sensors = names.map((n, index) => ({ name: n, index })).filter((s) => !RESERVED.some((r) => col[r] === s.index));
    if (sensors.length === 0) fail(1, 'no sensor columns besides timestamp, asset_id, asset_type and maintenance');
    width = names.length;
  };

  const onRow = (fields: string[], line: number): void => {
    if (fields.length !== width) fail(line, `${fields.length} fields, the header has ${width}`);
    const rawTs = fields[col.timestamp!]!;
    const ts = parseTimestamp(rawTs);
    if (ts === undefined) fail(line, `unparseable timestamp "${rawTs}" (ISO 8601, or epoch seconds or milliseconds)`);
    const cell = (i: number | undefined): string => (i === undefined ? '' : fields[i]!.trim());
    const assetId = col.asset_id === undefined ? o.assetId : cell(col.asset_id);
    if (assetId === '') fail(line, 'empty asset_id');
    const assetType = col.asset_type === undefined ? o.assetType : cell(col.asset_type);
    if (assetType === '') fail(line, 'empty asset_type');
    const repaired = cell(col.maintenance);
    const values: Record<string, number> = {};
    let any = false;
    for (const s of sensors) {
      const c = fields[s.index]!.trim();
      if (c === '') continue;
      values[s.name] = parseValue(c);
      any = true;
    }
    records++;
    if (repaired !== '') {
      if (any) fail(line, 'a maintenance row has sensor values: put the repair and the reading on separate rows');
      const event: MaintenanceEvent = { assetId, ts: ts!, ...(repaired === FULL_SERVICE ? {} : { failureMode: repaired }) };
      chunk.push({ kind: 'repair', event, source: 'csv', offset: line, src: src(line), recordTs: ts! });
      return;
    }
    const reading: Reading = { assetId, assetType, ts: ts!, values };
    chunk.push({ kind: 'reading', reading, offset: line, src: src(line), recordTs: ts! });
  };

  const csv = withHeader(onHeader, onRow);
  const reader = new CsvReader(csv.sink);
  const decoder = new StringDecoder('utf8');
  let bytes = 0;
  const flush = () => {
    if (chunk.length === 0) return;
    const done = chunk;
    chunk = [];
    o.onChunk(done);
  };
  try {
    for await (const data of stream) {
      const buf = data as Buffer | string;
      bytes += typeof buf === 'string' ? Buffer.byteLength(buf) : buf.length;
      reader.push(typeof buf === 'string' ? buf : decoder.write(buf));
      flush();
      o.onProgress?.(bytes, size);
    }
    reader.push(decoder.end());
    reader.end();
    flush();
  } catch (err) {
    if (err instanceof ReplayError) throw err;
    if (err instanceof CsvSyntaxError) throw new ReplayError(`pdm replay: ${name}: ${err.message}`);
    if (err instanceof Error && typeof (err as NodeJS.ErrnoException).code === 'string') {
      throw new ReplayError(`pdm replay: cannot read input ${name}: ${err.message}`);
    }
    throw err;
  } finally {
    if (stream !== o.stdin) stream.destroy();
  }
  if (!csv.headerSeen) throw new ReplayError(`pdm replay: ${name}: empty input, expected a header line`);
  if (records === 0) throw new ReplayError(`pdm replay: ${name}: no records after the header: there is no history to replay`);
  return records;
}
