/**
 * Rebuilding a scorer instance's partitions after an assignment: the compacted changelog is
 * read back into asset states (with each partition's checkpoint marker and each state's
 * sourceOffset), and the readings between a partition's marker and the group's committed
 * offset are the ones to replay through the core without output.
 */
import { randomUUID } from 'node:crypto';
import type { Admin, Consumer, Kafka } from 'kafkajs';
import type { AvroCodec } from '../kafka/codec.ts';
import { describeError, PipelineError } from '../runtime/errors.ts';
import type { Logger } from '../runtime/log.ts';
import { CHECKPOINT_KEY } from './checkpoints.ts';
import type { StateRecord } from './records.ts';

/**
 * Where each partition's replay starts and ends: from its checkpoint marker (or, with no
 * checkpoint yet, the readings' earliest offset: every state then starts fresh) up to the
 * group's committed offset (from = until when there is nothing to replay). A partition with
 * nothing committed starts at its earliest reading (from = until = that offset): the scorer
 * seeks every assigned partition there, since kafkajs's own position may be past chunks
 * whose transactions never committed (they are queued, partition-transactions.ts).
 */
export async function replayRanges(
  admin: Admin,
  groupId: string,
  topic: string,
  partitions: number[],
  markers: Map<number, bigint>,
  log: Logger,
): Promise<Map<number, { from: bigint; until: bigint }>> {
  const out = new Map<number, { from: bigint; until: bigint }>();
  if (partitions.length === 0) return out;
  const [committed, ends] = await Promise.all([admin.fetchOffsets({ groupId, topics: [topic] }), admin.fetchTopicOffsets(topic)]);
  const low = new Map(ends.map((o) => [o.partition, BigInt(o.low)]));
  const done = new Map((committed[0]?.partitions ?? []).map((p) => [p.partition, BigInt(p.offset)]));
  for (const partition of partitions) {
    const until = done.get(partition) ?? -1n;
    const earliest = low.get(partition) ?? 0n;
    if (until < 0n) {
      out.set(partition, { from: earliest, until: earliest }); // nothing committed: nothing was scored
      continue;
    }
    let from = markers.get(partition) ?? earliest;
    if (from < earliest) {
      // Retention deleted readings the last checkpoint does not cover: their effect on the
      // states cannot be redone. Scoring goes on from what is left (and says so).
      log.warn('readings after the last checkpoint were deleted by retention; states miss them', { topic, partition, checkpoint: from.toString(), earliest: earliest.toString() });
      from = earliest;
    }
    out.set(partition, { from: from < until ? from : until, until });
  }
  return out;
}

/** Bytes of one slab the restored states are copied into. */
const SLAB_BYTES = 1 << 20;

/**
 * Copies byte strings into shared 1 MiB slabs, each copy a view of its slab: the restore keeps
 * tens of thousands of 3.4 KB states until they are decoded, and one ArrayBuffer each (what
 * Buffer.from and avsc's own copies allocate) cost more than reading them from Kafka did. A
 * slab is freed once no view of it is held: each state's bytes are dropped when its asset's
 * first record decodes it (partition-state.ts, stateOf), or when they are packed for a scoring
 * thread right after the restore. A string over a quarter of a slab gets a buffer of its own.
 * A state superseded by a later record of its asset still holds its place in its slab: see
 * compactSlabs.
 */
export class SlabCopier {
  private slab = Buffer.allocUnsafeSlow(0);
  private used = 0;
  /** Bytes copied so far (what the slabs may hold at most). */
  copied = 0;
  copy(bytes: Uint8Array): Buffer {
    const n = bytes.length;
    this.copied += n;
    if (n > SLAB_BYTES / 4) return Buffer.from(bytes);
    if (this.used + n > this.slab.length) {
      this.slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
      this.used = 0;
    }
    const at = this.used;
    this.slab.set(bytes, at);
    this.used = at + n;
    return this.slab.subarray(at, at + n);
  }
}

/**
 * Bytes the slabs may hold beyond twice the live states before these are copied into fresh
 * slabs: a changelog not yet compacted holds several records of an asset, and the
 * superseded ones would otherwise keep their slabs for the whole restore.
 */
const SLAB_SLACK_BYTES = 64 << 20;

/** Copies the live states into fresh slabs when superseded ones hold too much; returns the copier to use next. */
function compactSlabs(slabs: SlabCopier, live: number, into: Map<number, Map<string, Buffer>>): SlabCopier {
  if (slabs.copied <= 2 * live + SLAB_SLACK_BYTES) return slabs;
  const fresh = new SlabCopier();
  for (const states of into.values()) for (const [key, bytes] of states) states.set(key, fresh.copy(bytes));
  return fresh;
}

/**
 * Reads the committed changelog of the given partitions from the beginning up to its end
 * (as of the start of the restore) into `into`, as each state's encoded bytes. kafkajs has no manual partition assignment,
 * so a throwaway consumer group subscribes to the topic and pauses the unwanted partitions.
 * Returns the number of asset states restored, each partition's checkpoint marker and each
 * restored state's sourceOffset.
 */
/** What a restore read back. */
export interface RestoredPartitions {
  /** Asset states restored (their encoded bytes are in `into`). */
  count: number;
  /** Each partition's checkpoint marker: the first readings offset its states do not cover. */
  markers: Map<number, bigint>;
  /** partition → assetId → the readings offset its state is current up to. */
  sourceOffsets: Map<number, Map<string, number>>;
  /** partition → assetId → Kafka timestamp of the asset's last record (for expiry). */
  lastSeen: Map<number, Map<string, number>>;
  /** Changelog records read (states, tombstones and markers): what a restore's time grows with. */
  records: number;
}

export async function restorePartitions(
  kafka: Kafka,
  codec: AvroCodec,
  topic: string,
  partitions: number[],
  into: Map<number, Map<string, Buffer>>,
  timeoutMs: number,
  log: Logger,
): Promise<RestoredPartitions> {
  const markers = new Map<number, bigint>();
  const sourceOffsets = new Map<number, Map<string, number>>(partitions.map((p) => [p, new Map()]));
  const lastSeen = new Map<number, Map<string, number>>(partitions.map((p) => [p, new Map()]));
  let records = 0;
  if (partitions.length === 0) return { count: 0, markers, sourceOffsets, lastSeen, records };
  const admin = kafka.admin();
  await admin.connect();
  const offsets = await admin.fetchTopicOffsets(topic).finally(() => admin.disconnect());
  const wanted = new Set(partitions);
  /** partition → last offset to reach (end - 1); partitions with nothing to read are left out. */
  const remaining = new Map<number, bigint>();
  for (const o of offsets) {
    if (wanted.has(o.partition) && BigInt(o.high) > BigInt(o.low)) remaining.set(o.partition, BigInt(o.high) - 1n);
  }
  if (remaining.size === 0) return { count: 0, markers, sourceOffsets, lastSeen, records };

  const consumer: Consumer = kafka.consumer({ groupId: `pdm-scorer-restore-${randomUUID()}`, readUncommitted: false });
  let slabs = new SlabCopier();
  /** Bytes of the states held now (superseded and deleted ones not counted). */
  let live = 0;
  let count = 0;
  let finish!: () => void;
  const finished = new Promise<void>((r) => (finish = r));
  const progress = (partition: number, lastOffset: string) => {
    const target = remaining.get(partition);
    if (target !== undefined && BigInt(lastOffset) >= target) remaining.delete(partition);
    if (remaining.size === 0) finish();
  };
  consumer.on(consumer.events.END_BATCH_PROCESS, (e) => progress(e.payload.partition, e.payload.lastOffset));
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        const states = into.get(batch.partition);
        if (!states) return;
        records += batch.messages.length;
        for (const msg of batch.messages) {
          const key = msg.key?.toString('utf8');
          if (!key) continue;
          if (msg.value === null) {
            const gone = states.get(key);
            if (gone) {
              states.delete(key);
              live -= gone.length;
              count--;
            }
            sourceOffsets.get(batch.partition)?.delete(key);
            lastSeen.get(batch.partition)?.delete(key);
            continue;
          }
          // The state's bytes view the fetched batch: copied once below, into a slab.
          const rec = (await codec.decodeViews(msg.value)) as StateRecord;
          if (key === CHECKPOINT_KEY) {
            markers.set(batch.partition, BigInt(rec.sourceOffset));
            continue;
          }
          const before = states.get(key);
          if (before) live -= before.length;
          else count++;
          live += rec.state.length;
          // Decoding the state is left to whoever holds the partition (scoring.ts), which may
          // be another thread.
          states.set(key, slabs.copy(rec.state));
          sourceOffsets.get(batch.partition)?.set(key, rec.sourceOffset);
          // 0: written before lastSeenMs existed; unknown, so no expiry until the asset's next record.
          if (rec.lastSeenMs > 0) lastSeen.get(batch.partition)?.set(key, rec.lastSeenMs);
          else lastSeen.get(batch.partition)?.delete(key);
        }
        slabs = compactSlabs(slabs, live, into);
      },
    });
    // The throwaway group owns every partition; reading only the wanted ones keeps a restore
    // proportional to this instance's share of the changelog. (A fetch already in flight may
    // still bring records of the others: eachBatch ignores them.)
    const others = offsets.map((o) => o.partition).filter((p) => !wanted.has(p));
    if (others.length > 0) consumer.pause([{ topic, partitions: others }]);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new PipelineError(`restore of ${topic} partitions ${partitions.join(',')} did not reach the end within ${timeoutMs} ms (an open transaction of another instance?)`, true)),
        timeoutMs,
      );
    });
    await Promise.race([finished, timeout]).finally(() => clearTimeout(timer));
  } finally {
    await consumer.disconnect().catch((err: unknown) => log.warn('restore consumer disconnect', { error: describeError(err) }));
  }
  return { count, markers, sourceOffsets, lastSeen, records };
}
