/**
 * Kafka messages across a thread boundary (the scoring threads, scoring-threads.ts): the keys
 * and values of a list of messages are copied into ONE ArrayBuffer, which is transferred
 * rather than cloned, with their lengths beside it; the rare headers and explicit partitions
 * travel as a sparse list. Keys and values stay bytes, so a dead letter still carries its
 * record byte for byte. Unpacked Buffers are views of the transferred buffer (no copy).
 */
import type { IHeaders, KafkaMessage, Message } from 'kafkajs';

export interface PackedMessages {
  buf: ArrayBuffer;
  /** Per message: key length, value length (-1: null). */
  lens: Int32Array;
  /** Messages with headers or an explicit partition: [index, headers, partition]. */
  extras: [number, IHeaders | undefined, number | undefined][];
}

type Bytes = Buffer | string | null | undefined;

const asBuffer = (b: Bytes): Buffer | null => (b === null || b === undefined ? null : typeof b === 'string' ? Buffer.from(b, 'utf8') : b);

/** Packs messages (outputs, or a fetched chunk) into one transferable buffer. */
export function packMessages(messages: readonly { key?: Bytes; value: Bytes; headers?: IHeaders; partition?: number }[]): PackedMessages {
  const keys = messages.map((m) => asBuffer(m.key));
  const values = messages.map((m) => asBuffer(m.value));
  let total = 0;
  for (let i = 0; i < messages.length; i++) total += (keys[i]?.length ?? 0) + (values[i]?.length ?? 0);
  const buf = new ArrayBuffer(total);
  const bytes = new Uint8Array(buf);
  const lens = new Int32Array(messages.length * 2);
  const extras: PackedMessages['extras'] = [];
  let at = 0;
  const put = (slot: number, b: Buffer | null): void => {
    lens[slot] = b === null ? -1 : b.length;
    if (b === null) return;
    bytes.set(b, at);
    at += b.length;
  };
  for (let i = 0; i < messages.length; i++) {
    put(i * 2, keys[i]!);
    put(i * 2 + 1, values[i]!);
    const m = messages[i]!;
    if (hasAny(m.headers) || m.partition !== undefined) extras.push([i, m.headers, m.partition]);
  }
  return { buf, lens, extras };
}

/** True when the headers name at least one (kafkajs gives every fetched message an object, mostly empty). */
function hasAny(headers: IHeaders | undefined): boolean {
  for (const _ in headers) return true;
  return false;
}

/** A header value as kafkajs sends it: Buffers arrive as Uint8Arrays after a structured clone. */
function restoreHeaders(h: IHeaders): IHeaders {
  const out: IHeaders = {};
  for (const [k, v] of Object.entries(h)) {
    const one = (x: unknown) => (x instanceof Uint8Array && !Buffer.isBuffer(x) ? Buffer.from(x.buffer, x.byteOffset, x.byteLength) : x);
    out[k] = (Array.isArray(v) ? v.map(one) : one(v)) as IHeaders[string];
  }
  return out;
}

/** Producer messages viewing the packed buffer. */
export function unpackMessages(p: PackedMessages): Message[] {
  const n = p.lens.length / 2;
  const out: Message[] = new Array(n);
  let at = 0;
  const take = (len: number): Buffer | null => {
    if (len < 0) return null;
    const b = Buffer.from(p.buf, at, len);
    at += len;
    return b;
  };
  for (let i = 0; i < n; i++) {
    const key = take(p.lens[i * 2]!);
    out[i] = { key, value: take(p.lens[i * 2 + 1]!) };
  }
  for (const [i, headers, partition] of p.extras) {
    if (headers) out[i]!.headers = restoreHeaders(headers);
    if (partition !== undefined) out[i]!.partition = partition;
  }
  return out;
}

/** A fetched chunk: the messages plus their offsets and timestamps, for the scoring thread. */
export interface PackedChunk {
  messages: PackedMessages;
  offsets: string[];
  timestamps: string[];
}

export function packChunk(messages: readonly KafkaMessage[]): PackedChunk {
  return { messages: packMessages(messages), offsets: messages.map((m) => m.offset), timestamps: messages.map((m) => m.timestamp) };
}

/** The chunk as kafkajs delivered it (what the scorer's decode step reads). */
export function unpackChunk(c: PackedChunk): KafkaMessage[] {
  return unpackMessages(c.messages).map(
    (m, i) => ({ key: m.key as Buffer | null, value: m.value as Buffer | null, headers: m.headers ?? {}, offset: c.offsets[i]!, timestamp: c.timestamps[i]!, attributes: 0 }) as KafkaMessage,
  );
}
