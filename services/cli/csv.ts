/**
 * A streaming RFC 4180 CSV reader and a field formatter, for `pdm score`. Input arrives in
 * chunks of any size (a field, a quoted newline or a CRLF may be split across chunks) and
 * records leave through a callback as soon as they are complete, so memory stays bounded by
 * the longest record, never by the file.
 *
 * Accepted: comma separator; LF, CRLF or lone CR line ends; fields quoted with `"` that may
 * hold commas, line breaks and `""` (an escaped quote); a UTF-8 byte-order mark at the start;
 * blank lines (skipped). Rejected with the line number: text after a closing quote, and a
 * quoted field still open at the end of the input.
 */

/** Malformed CSV; `line` is the 1-based physical line where the problem sits. */
export class CsvSyntaxError extends Error {
  override readonly name = 'CsvSyntaxError';
  constructor(
    readonly line: number,
    reason: string,
  ) {
    super(`line ${line}: ${reason}`);
  }
}

/**
 * Receives one record: its fields (unquoted, unescaped) and the 1-based physical line it
 * starts on (a record with quoted line breaks spans several lines; errors name its first).
 */
export type RecordSink = (fields: string[], line: number) => void;

const COMMA = 44;
const QUOTE = 34;
const LF = 10;
const CR = 13;

const enum Mode {
  /** Outside quotes: at a field's start or inside an unquoted field. */
  Plain,
  /** Inside a quoted field. */
  Quoted,
  /** Just saw a `"` inside a quoted field: closing quote, or the first half of `""`. */
  QuoteInQuoted,
}

/** A record sink that hands the first record (the header) to `onHeader` and every later one to `onRow`. */
export function withHeader(onHeader: (fields: string[], line: number) => void, onRow: (fields: string[], line: number) => void): { sink: RecordSink; readonly headerSeen: boolean } {
  let headerSeen = false;
  return {
    sink: (fields, line) => {
      if (headerSeen) onRow(fields, line);
      else {
        headerSeen = true;
        onHeader(fields, line);
      }
    },
    get headerSeen() {
      return headerSeen;
    },
  };
}

/** Incremental CSV reader: call {@link push} per chunk, then {@link end} once. */
export class CsvReader {
  private mode = Mode.Plain;
  private fields: string[] = [];
  /** Text of the current field gathered so far (from earlier chunks or quoted parts). */
  private field = '';
  /** True once the current field has any content or quotes (tells `a,` from a blank line). */
  private fieldTouched = false;
  private line = 1;
  private recordLine = 1;
  /** A CR ended the previous chunk: a LF starting the next one belongs to it. */
  private skipLf = false;
  private first = true;
  /** A quoted part ended in CR at a chunk end: a LF starting the next part is the same break. */
  private pendingQuotedCr = false;

  constructor(private readonly sink: RecordSink) {}

  /** Feeds the next chunk of text (any size, any split point). */
  push(chunk: string): void {
    let i = 0;
    const n = chunk.length;
    if (this.first && n > 0) {
      this.first = false;
      if (chunk.charCodeAt(0) === 0xfeff) i = 1;
    }
    if (this.skipLf && i < n) {
      this.skipLf = false;
      if (chunk.charCodeAt(i) === LF) i++;
    }
    while (i < n) {
      if (this.mode === Mode.Plain) {
        // Scan an unquoted run in one slice: the common case of numeric CSV.
        const start = i;
        let c = 0;
        while (i < n) {
          c = chunk.charCodeAt(i);
          if (c === COMMA || c === LF || c === CR || c === QUOTE) break;
          i++;
        }
        if (i > start) {
          this.field += chunk.slice(start, i);
          this.fieldTouched = true;
        }
        if (i === n) break;
        i++;
        if (c === COMMA) {
          this.endField();
        } else if (c === QUOTE) {
          if (this.fieldTouched) {
            throw new CsvSyntaxError(this.line, 'quote inside an unquoted field (quote the whole field and double the quote: "a""b")');
          }
          this.mode = Mode.Quoted;
          this.fieldTouched = true;
        } else {
          // LF, CR or CRLF ends the record.
          if (c === CR) {
            if (i < n) {
              if (chunk.charCodeAt(i) === LF) i++;
            } else {
              this.skipLf = true;
            }
          }
          this.endRecord();
          this.line++;
          this.recordLine = this.line;
        }
      } else if (this.mode === Mode.Quoted) {
        const close = chunk.indexOf('"', i);
        const end = close < 0 ? n : close;
        const part = chunk.slice(i, end);
        this.field += part;
        this.line += countLineBreaks(part);
        if (this.pendingQuotedCr && part.charCodeAt(0) === LF) this.line--;
        if (close < 0) {
          this.pendingQuotedCr = part.charCodeAt(part.length - 1) === CR;
          break;
        }
        this.pendingQuotedCr = false;
        i = close + 1;
        this.mode = Mode.QuoteInQuoted;
      } else {
        const c = chunk.charCodeAt(i);
        if (c === QUOTE) {
          this.field += '"';
          this.mode = Mode.Quoted;
          i++;
        } else if (c === COMMA || c === LF || c === CR) {
          this.mode = Mode.Plain; // the Plain branch ends the field or record
        } else {
          throw new CsvSyntaxError(this.line, 'text after the closing quote of a quoted field');
        }
      }
    }
  }

  /** Flushes the last record (a file need not end with a line break). */
  end(): void {
    if (this.mode === Mode.Quoted) {
      throw new CsvSyntaxError(this.recordLine, 'quoted field not closed before the end of the input');
    }
    this.mode = Mode.Plain;
    this.endRecord();
  }

  private endField(): void {
    this.fields.push(this.field);
    this.field = '';
    this.fieldTouched = false;
  }

  private endRecord(): void {
    // A blank line (nothing at all, not even `""`) is no record.
    if (this.fields.length === 0 && !this.fieldTouched) return;
    this.endField();
    const fields = this.fields;
    this.fields = [];
    this.sink(fields, this.recordLine);
  }
}

function countLineBreaks(s: string): number {
  let count = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === LF) count++;
    else if (c === CR && s.charCodeAt(i + 1) !== LF) count++;
  }
  return count;
}

const NEEDS_QUOTES = /[",\r\n]/;

/** Formats one field for CSV output: quoted (with `""`) only when it holds `"`, `,` or a line break. */
export function csvField(value: string): string {
  return NEEDS_QUOTES.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

/** Formats one record as a CSV line ending in LF. */
export function csvLine(fields: readonly string[]): string {
  let out = '';
  for (let i = 0; i < fields.length; i++) {
    if (i > 0) out += ',';
    out += csvField(fields[i]!);
  }
  return out + '\n';
}
