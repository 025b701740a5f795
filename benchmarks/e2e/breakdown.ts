/**
 * The scorer's CPU per reading, step by step, on the same wire-format values, one pass each
 * after a warm-up: Avro decode, the core (on copies of the states, each step dropped at once, as
 * the scorer uses it), the score blocks (build and encode), a state
 * changelog record (per dirty asset, not per reading), and the client side of producing the
 * outputs (kafkajs request encoding and socket writes, measured as this process's CPU time
 * while the score records are sent).
 */
import type { Kafka, Message } from 'kafkajs';
import { decodeState, DEFAULT_CONFIG, encodeState, newState, score, type AssetState, type Reading } from '../../services/core/index.ts';
import { AvroCodec, loadSchemaText, recordWriterKey } from '../../services/kafka/codec.ts';
import type { TopicNames } from '../../services/kafka/topics.ts';
import type { StateRecord } from '../../services/scorer/records.ts';
import { ScoreBlocks } from '../../services/scorer/score-blocks.ts';
import { median } from '../lib/timing.ts';

export interface Breakdown {
  decodeUs: number;
  coreUs: number;
  scoreEncodeUs: number;
  /** Per changelog record (the scorer writes one per dirty asset per checkpoint). */
  stateEncodeUs: number;
  produceUs: number;
  /** Bytes of score records per reading. */
  scoreBytesPerReading: number;
}

/**
 * @param chunk readings per transaction the scorer had in the throughput run: blocks are built
 *   per asset over chunks of this size, so records have the size they had there
 */
/**
 * @param probeTopic an empty topic of its own: the produce step sends the blocks there, not to
 *   the scores topic the sink phase reads
 */
export async function cpuBreakdown(kafka: Kafka, codec: AvroCodec, topics: TopicNames, values: Message[], chunk: number, warmup: readonly Message[], probeTopic: string): Promise<Breakdown> {
  await codec.registerValueSchema(topics.scores, loadSchemaText('score'));
  const blockKey = recordWriterKey(topics.scores, await codec.registerRecordSchema(topics.scores, loadSchemaText('scoreBlock')));
  await codec.registerValueSchema(topics.state, loadSchemaText('state'));
  const us = (t0: number) => ((performance.now() - t0) * 1000) / values.length;
  const decoded: Reading[] = [];
  for (const m of values.slice(0, 2_000)) await codec.decode(m.value as Buffer); // warm-up
  let t0 = performance.now();
  for (const m of values) decoded.push(codec.decodeIfCached(m.value as Buffer)!.value as Reading);
  const decodeUs = us(t0);
  const states = new Map<string, AssetState>();
  // The warm-up readings bring every asset past its learning period, untimed.
  for (const m of warmup) {
    const r = codec.decodeIfCached(m.value as Buffer)!.value as Reading;
    const s = states.get(r.assetId) ?? newState(r.assetId, r.assetType, DEFAULT_CONFIG);
    states.set(r.assetId, score(s, r, DEFAULT_CONFIG).state);
  }
  // The core is timed as the scorer runs it, each step used and dropped at once, on copies of
  // the states; then the same readings are scored again, untimed, into the steps the block
  // phase needs. Timed while it kept all the steps, the core read 5.8 µs a reading against
  // 3.1 in its own benchmark: the kept steps survived the young-generation collections, and
  // the copying was timed as the core's.
  const copies = new Map([...states].map(([id, s]) => [id, decodeState(encodeState(s))]));
  let checksum = 0;
  t0 = performance.now();
  for (const r of decoded) {
    let s = copies.get(r.assetId);
    if (!s) copies.set(r.assetId, (s = newState(r.assetId, r.assetType, DEFAULT_CONFIG)));
    checksum += score(s, r, DEFAULT_CONFIG).score;
  }
  const coreUs = us(t0);
  const steps: ReturnType<typeof score>[] = [];
  for (const r of decoded) {
    let s = states.get(r.assetId);
    if (!s) states.set(r.assetId, (s = newState(r.assetId, r.assetType, DEFAULT_CONFIG)));
    const step = score(s, r, DEFAULT_CONFIG);
    steps.push(step);
  }
  if (!(checksum >= 0)) throw new Error('breakdown: the core gave no scores');
  // As the scorer writes them: one block per asset per chunk.
  const out: Message[] = [];
  let bytes = 0;
  t0 = performance.now();
  for (let i = 0; i < decoded.length; i += chunk) {
    const blocks = new ScoreBlocks(DEFAULT_CONFIG.version);
    for (let j = i; j < Math.min(decoded.length, i + chunk); j++) blocks.addReading(decoded[j]!, steps[j]!, steps[j]!.state.sensors);
    for (const b of blocks.records()) {
      const value = codec.encode(blockKey, b);
      bytes += value.length;
      out.push({ key: b.assetId, value });
    }
  }
  const scoreEncodeUs = us(t0);
  // A changelog record per state, as a checkpoint writes them: many distinct states (the
  // 200 assets' states under 25 ids each: 5,000, about 19 MB encoded, so neither the states nor
  // the records stay in the CPU's caches), the median of 5 passes after 2 untimed ones. Timed
  // over the 200 states alone, a pass was about 2 ms and one collection inside it moved the
  // figure from 8 to 40 µs.
  const many: AssetState[] = [];
  for (let k = 0; k < 25; k++) for (const s of states.values()) many.push({ ...s, assetId: `${s.assetId}-${k}`, f: s.f.slice() });
  let stateBytes = 0;
  const passes: number[] = [];
  for (let pass = 0; pass < 7; pass++) {
    t0 = performance.now();
    for (const s of many) {
      const bytes = encodeState(s);
      const rec: StateRecord = { assetId: s.assetId, assetType: s.assetType, state: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), sourceOffset: 1, lastSeenMs: 0 };
      stateBytes += codec.encode(topics.state, rec).length;
    }
    if (pass >= 2) passes.push(((performance.now() - t0) * 1000) / many.length);
  }
  const stateEncodeUs = median(passes);
  if (bytes === 0 || stateBytes === 0) throw new Error('breakdown encoded nothing');
  const producer = kafka.producer();
  await producer.connect();
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < out.length; i += 500) await producer.send({ topic: probeTopic, messages: out.slice(i, i + 500), acks: -1 });
  const cpu = process.cpuUsage(cpu0);
  await producer.disconnect();
  const produceUs = (cpu.user + cpu.system) / values.length;
  return { decodeUs, coreUs, scoreEncodeUs, stateEncodeUs, produceUs, scoreBytesPerReading: bytes / values.length };
}
