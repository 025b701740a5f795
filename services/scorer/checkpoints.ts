/**
 * Rolling checkpoints of the scorer's per-asset states (pure: no Kafka, the encoder is
 * injected). An asset's state is not written after every transaction (at 3.6 KB per asset it
 * would outweigh the scores several times over): it is written in the first transaction at
 * least `checkpointIntervalMs` (or `checkpointMaxReadings` readings of its partition) after
 * the reading that made it differ from its last written state, so the writes spread evenly
 * instead of arriving all at once. Each such transaction also writes the partition's marker
 * record (key CHECKPOINT_KEY): the offset below which every reading of the partition is folded
 * into a written state, where a restore starts replaying.
 */
import type { Message } from 'kafkajs';
import { encodeState, type AssetState } from '../core/index.ts';
import type { StateRecord } from './records.ts';

/**
 * Changelog key of a partition's checkpoint marker; its record's sourceOffset is the first
 * readings offset NOT folded into the partition's checkpointed states. Asset ids cannot
 * contain control characters (validReading), so it never collides with an asset.
 */
export const CHECKPOINT_KEY = '\u0000checkpoint';

/**
 * Per partition: the assets whose state differs from their last written one, in the order
 * they became so (a Map keeps insertion order), with when and at which readings offset.
 */
export type DirtyAssets = Map<string, { at: number; offset: number }>;

/** Records that an asset changed at `offset`; only its first unwritten change counts. */
export function markDirty(dirty: DirtyAssets, assetId: string, offset: number, at: number): void {
  if (!dirty.has(assetId)) dirty.set(assetId, { at, offset });
}

/**
 * The oldest dirty assets whose checkpoint is due at `at` (a prefix of `dirty`, which is in
 * first-change order): changed at least `intervalMs` ago or at least `maxReadings` offsets
 * before `nextOffset`. Assets that change together (a fleet's first readings, a burst) fall
 * due together; so that one transaction does not carry hundreds of 3.6 KB states and stall
 * the stream, at most `limit` of those due are taken, except that states due for half an
 * interval more are always taken (which bounds the replay).
 */
export function dueForCheckpoint(
  dirty: ReadonlyMap<string, { at: number; offset: number }>,
  at: number,
  nextOffset: number,
  limit: number,
  intervalMs: number,
  maxReadings: number,
): string[] {
  const due: string[] = [];
  for (const [id, d] of dirty) {
    const age = at - d.at;
    const behind = nextOffset - d.offset;
    if (age < intervalMs && behind < maxReadings) break;
    const overdue = age >= intervalMs * 1.5 || behind >= maxReadings * 1.5;
    if (!overdue && due.length >= limit) break;
    due.push(id);
  }
  return due;
}

/**
 * The changelog records for writing the states of `due` (a prefix of `dirty`), then the
 * partition's marker: the first offset of the oldest asset still dirty after them, or
 * `nextOffset` when none is. Explicit partition: the changelog is co-partitioned with the
 * readings by construction.
 */
export function checkpointRecords(
  partition: number,
  states: ReadonlyMap<string, AssetState>,
  dirty: DirtyAssets,
  due: readonly string[],
  nextOffset: bigint,
  encode: (rec: StateRecord) => Buffer,
  lastSeen: ReadonlyMap<string, number> = new Map(),
): Message[] {
  const out: Message[] = [];
  const sourceOffset = Number(nextOffset - 1n);
  for (const assetId of due) {
    const state = states.get(assetId);
    if (!state) continue;
    const bytes = encodeState(state);
    // A view, not a copy: the encoded state is fresh and owned here.
    const rec: StateRecord = { assetId, assetType: state.assetType, state: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), sourceOffset, lastSeenMs: lastSeen.get(assetId) ?? 0 };
    out.push({ key: assetId, partition, value: encode(rec) });
  }
  let markerOffset = Number(nextOffset);
  let i = 0;
  for (const d of dirty.values()) {
    if (i++ === due.length) {
      markerOffset = d.offset;
      break;
    }
  }
  const marker: StateRecord = { assetId: CHECKPOINT_KEY, assetType: '', state: Buffer.alloc(0), sourceOffset: markerOffset, lastSeenMs: 0 };
  out.push({ key: CHECKPOINT_KEY, partition, value: encode(marker) });
  return out;
}
