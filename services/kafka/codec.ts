/**
 * Avro in the Confluent wire format (magic byte 0, 4-byte big-endian schema id, Avro
 * binary), with schemas registered in a Confluent-API-compatible registry under the
 * subject `<topic>-value` with BACKWARD compatibility. Decoding classifies failures:
 * bytes that are not a valid record of their schema are poison (malformed_avro), a
 * schema id the registry does not know is poison (unknown_schema), and a registry that
 * does not answer is a retriable error — the record is not to blame.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { COMPATIBILITY, SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import avro from 'avsc';
import { PipelineError, PoisonRecordError } from '../runtime/errors.ts';
// Refuses array and map block counts the bytes cannot hold, before avsc loops over them.
import './avro-guard.ts';
import { viewReaderOf } from './avro-views.ts';

const SCHEMA_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'schemas');
const MAGIC_BYTE = 0;
/** Attempts at a registration that meets another service registering the same new subject. */
const REGISTER_RACE_RETRIES = 6;
const HEADER_BYTES = 5;

/** The schema files of schemas/, by role. */
export const SCHEMA_FILES = {
  reading: 'telemetry.reading.avsc',
  score: 'anomaly.score.avsc',
  scoreBatch: 'anomaly.score.batch.avsc',
  scoreBlock: 'anomaly.score.block.avsc',
  prediction: 'failure.prediction.avsc',
  caseEvent: 'case.event.avsc',
  state: 'scorer.state.avsc',
  maintenance: 'maintenance.event.avsc',
} as const;
export type SchemaRole = keyof typeof SCHEMA_FILES;

export function loadSchemaText(role: SchemaRole): string {
  return readFileSync(join(SCHEMA_DIR, SCHEMA_FILES[role]), 'utf8');
}

/** A decoded value and the full name of its writer schema's record. */
export interface Decoded {
  value: unknown;
  schema: string;
}

/** The encode() key of a record type registered with registerRecordSchema. */
export function recordWriterKey(topic: string, fullName: string): string {
  return `${topic}#${fullName}`;
}

interface Writer {
  id: number;
  type: avro.Type;
}

export class AvroCodec {
  private readonly writers = new Map<string, Writer>();
  private readonly readers = new Map<number, avro.Type>();
  private readonly viewReaders = new Map<number, avro.Type>();
  /** Where encode() writes a value before copying it out (grown on demand; encode is synchronous). */
  private scratch = Buffer.allocUnsafeSlow(16 * 1024);
  readonly registry: SchemaRegistry;

  constructor(readonly registryUrl: string) {
    this.registry = new SchemaRegistry({ host: registryUrl, retry: { retries: 3 } });
  }

  /**
   * Registers a schema for a topic's values (subject `<topic>-value`, BACKWARD) and keeps it
   * as the writer schema for that topic. An incompatible schema is refused by the registry.
   */
  async registerValueSchema(topic: string, schemaText: string): Promise<number> {
    const type = avro.Type.forSchema(JSON.parse(schemaText) as avro.Schema);
    return this.register(`${topic}-value`, topic, type, schemaText);
  }

  /**
   * Registers a further record type for a topic that carries several (TopicRecordNameStrategy:
   * subject `<topic>-<record full name>`, BACKWARD) and keeps it as that record's writer
   * schema: encode with `encode(recordWriterKey(topic, fullName), value)`. Returns the
   * record's full name, which decoding reports as `schema`.
   */
  async registerRecordSchema(topic: string, schemaText: string): Promise<string> {
    const type = avro.Type.forSchema(JSON.parse(schemaText) as avro.Schema);
    const name = type.name;
    if (!name) throw new Error(`registerRecordSchema(${topic}): the schema has no name`);
    await this.register(`${topic}-${name}`, recordWriterKey(topic, name), type, schemaText);
    return name;
  }

  /** Registers `schemaText` under `subject` (BACKWARD) and keeps it as the writer schema of `writerKey`. */
  private async register(subject: string, writerKey: string, type: avro.Type, schemaText: string): Promise<number> {
    let id: number;
    for (let attempt = 1; ; attempt++) {
      try {
        ({ id } = await this.registry.register({ type: SchemaType.AVRO, schema: schemaText }, { subject, compatibility: COMPATIBILITY.BACKWARD }));
        break;
      } catch (cause) {
        // The client registers a new subject, then sets its compatibility: a second service
        // can meet the subject between the two steps, and a registrant killed between them
        // leaves it at the registry's default for good (Apicurio: "Compatibility does not
        // match the configuration (BACKWARD != NONE)"; the reliability suite's kill -9 found
        // it: the scorer could never start again). Do the second step ourselves, as the
        // registrant would have (only from NONE: any other level was someone's choice), and
        // try again.
        const message = String((cause as Error)?.message);
        if (attempt < REGISTER_RACE_RETRIES && /Compatibility does not match the configuration \(BACKWARD != NONE\)/i.test(message)) {
          await this.setCompatibility(subject, 'BACKWARD').catch(() => undefined);
          await new Promise((r) => setTimeout(r, 50 * attempt + Math.random() * 100));
          continue;
        }
        // Two services setting the level at once: Apicurio refuses the second rule ("A rule
        // named 'COMPATIBILITY' already exists"), which only says the level is now set. The
        // reliability suite's zombie scenario had one of its two scorers die of it at start.
        if (attempt < REGISTER_RACE_RETRIES && /A rule named 'COMPATIBILITY' already exists/i.test(message)) {
          await new Promise((r) => setTimeout(r, 50 * attempt + Math.random() * 100));
          continue;
        }
        throw new PipelineError(`register schema for ${subject}`, isUnreachable(cause), { cause });
      }
    }
    this.writers.set(writerKey, { id, type });
    this.readers.set(id, type);
    return id;
  }

  /** PUT /config/{subject}: the subject's compatibility level (Confluent API, as the client's own second step). */
  private async setCompatibility(subject: string, level: 'BACKWARD'): Promise<void> {
    const res = await fetch(`${this.registryUrl}/config/${encodeURIComponent(subject)}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
      body: JSON.stringify({ compatibility: level }),
      signal: AbortSignal.timeout(10_000),
    });
    if (!res.ok) throw new Error(`PUT /config/${subject}: HTTP ${res.status} ${await res.text()}`);
  }

  /** Encodes a value for a topic whose schema was registered; an invalid value is a programming error. */
  encode(topic: string, value: unknown): Buffer {
    const w = this.writers.get(topic);
    if (!w) throw new Error(`no schema registered for topic ${topic}`);
    // One pass into a scratch buffer that grows to the largest value seen, then one copy of
    // exactly the value's size: avsc's toBuffer encodes a value over 1 KiB twice (its shared
    // buffer is 1 KiB) into a zero-filled buffer, which was then copied behind the header.
    let end: number;
    try {
      end = w.type.encode(value, this.scratch, HEADER_BYTES);
      if (end < 0) {
        this.scratch = Buffer.allocUnsafeSlow(2 * (this.scratch.length - end));
        end = w.type.encode(value, this.scratch, HEADER_BYTES);
      }
    } catch {
      // Validate only on failure: isValid on every record would double the encoding cost.
      const paths: string[] = [];
      w.type.isValid(value, { errorHook: (path) => paths.push(path.join('.') || '(root)') });
      throw new PoisonRecordError(`value for ${topic} does not match its schema at ${paths.join(', ')}`, 'invalid_record');
    }
    const out = Buffer.allocUnsafe(end);
    out.writeUInt8(MAGIC_BYTE, 0);
    out.writeUInt32BE(w.id, 1);
    this.scratch.copy(out, HEADER_BYTES, HEADER_BYTES, end);
    return out;
  }

  /** Decodes one value; throws PoisonRecordError for bad bytes or an unknown schema id. */
  async decode(buf: Buffer | null): Promise<unknown> {
    return (await this.decodeNamed(buf)).value;
  }

  /** decode(), plus the full name of the writer's record schema (e.g. com.pdm.telemetry.Reading). */
  async decodeNamed(buf: Buffer | null): Promise<Decoded> {
    const id = schemaIdOf(buf);
    const type = this.readers.get(id) ?? (await this.fetchSchema(id));
    return { value: decodeBody(type, id, buf!), schema: type.name ?? '' };
  }

  /**
   * decode(), but every `bytes` value in the result is a view of `buf` rather than a copy
   * (avro-views.ts): for a caller that keeps those bytes longer than `buf` copies them itself,
   * once, and one that does not keeps them without a copy at all.
   */
  async decodeViews(buf: Buffer | null): Promise<unknown> {
    const id = schemaIdOf(buf);
    let type = this.viewReaders.get(id);
    if (!type) {
      const reader = this.readers.get(id) ?? (await this.fetchSchema(id));
      type = viewReaderOf(reader.schema({ exportAttrs: true }) as avro.Schema);
      this.viewReaders.set(id, type);
    }
    return decodeBody(type, id, buf!);
  }

  /**
   * The synchronous fast path of decodeNamed() for hot loops, or `undefined` when the schema
   * id is not cached yet (then call decodeNamed(), which fetches it). Bad bytes throw the
   * same PoisonRecordError as decode().
   */
  decodeIfCached(buf: Buffer | null): Decoded | undefined {
    const id = schemaIdOf(buf);
    const type = this.readers.get(id);
    return type ? { value: decodeBody(type, id, buf!), schema: type.name ?? '' } : undefined;
  }

  /**
   * Fetches the schemas these values name that are not cached yet, so that decodeIfCached()
   * decodes every one of them: a caller that applies a chunk slice by slice learns of an
   * unreachable registry before its first slice changed anything. Values with a bad header
   * or an id the registry does not know are left for the decode to report as poison.
   */
  async prefetchSchemas(values: Iterable<Buffer | null>): Promise<void> {
    let missing: Set<number> | undefined;
    for (const buf of values) {
      let id: number;
      try {
        id = schemaIdOf(buf);
      } catch {
        continue; // a bad header: the decode reports it
      }
      if (!this.readers.has(id)) (missing ??= new Set()).add(id);
    }
    for (const id of missing ?? []) {
      try {
        await this.fetchSchema(id);
      } catch (err) {
        if (!(err instanceof PoisonRecordError)) throw err;
      }
    }
  }

  private async fetchSchema(id: number): Promise<avro.Type> {
    // GET /schemas/ids/{id} of the Confluent API: the raw text, so the reader Type is built
    // with our avsc options rather than the client's.
    let res: Response;
    try {
      res = await fetch(`${this.registryUrl}/schemas/ids/${id}`, { signal: AbortSignal.timeout(10_000) });
    } catch (cause) {
      throw new PipelineError(`fetch schema id ${id} from the registry at ${this.registryUrl}`, true, { cause });
    }
    if (res.status === 404) {
      throw new PoisonRecordError(`schema id ${id} is unknown to the registry`, 'unknown_schema');
    }
    if (!res.ok) {
      throw new PipelineError(`fetch schema id ${id} from the registry: HTTP ${res.status} ${await res.text().catch(() => '')}`, res.status >= 500 || res.status === 429);
    }
    const text = ((await res.json()) as { schema: string }).schema;
    let type: avro.Type;
    try {
      type = avro.Type.forSchema(JSON.parse(text) as avro.Schema);
    } catch (cause) {
      throw new PoisonRecordError(`schema id ${id} is not an Avro schema`, 'unknown_schema', { cause });
    }
    this.readers.set(id, type);
    return type;
  }
}

/** The schema id of a Confluent wire-format value; PoisonRecordError when the header is wrong. */
function schemaIdOf(buf: Buffer | null): number {
  if (!buf || buf.length < HEADER_BYTES) {
    throw new PoisonRecordError(`value of ${buf ? buf.length : 0} bytes is shorter than the ${HEADER_BYTES}-byte Confluent header`, 'malformed_avro');
  }
  if (buf[0] !== MAGIC_BYTE) {
    throw new PoisonRecordError(`value starts with byte ${buf[0]}, not the Confluent magic byte 0`, 'malformed_avro');
  }
  return buf.readUInt32BE(1);
}

function decodeBody(type: avro.Type, id: number, buf: Buffer): unknown {
  try {
    return type.fromBuffer(buf.subarray(HEADER_BYTES));
  } catch (cause) {
    throw new PoisonRecordError(`bytes are not a valid record of schema id ${id}`, 'malformed_avro', { cause });
  }
}

function isUnreachable(err: unknown): boolean {
  const e = err as { status?: number };
  return e?.status === undefined || e.status >= 500;
}
