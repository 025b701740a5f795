/**
 * What a scorer instance holds for one assigned partition of the readings topic, in one
 * place: the asset states, which of them are not yet checkpointed, and where a replay
 * after a restore stands. Nothing here survives a rebalance: on every assignment the
 * partitions are rebuilt from the changelog (restore.ts).
 *
 * Invariants:
 * - `states` and `stored` together are exactly those of the last committed transaction plus
 *   the chunks being scored in the current epoch (a failed transaction triggers a restore).
 *   An asset is in one of them at most: `stored` holds restored states not decoded yet, and
 *   stateOf decodes one into `states` at the asset's first record, so a restore ends when the
 *   changelog is read rather than when every state is decoded.
 * - `dirty` lists, in first-change order, the assets whose state differs from the one
 *   last written to the changelog.
 * - `lastSeen` holds, per asset with a state, the Kafka timestamp of its last record: an asset
 *   silent for the state TTL (by record time, so a replay decides the same) is expired: its
 *   next record starts a fresh state, and a sweep removes it (a changelog tombstone).
 * - While `replayUntil` is set, readings below it are folded into the states without any
 *   output (their outputs are committed already); readings an asset's restored state holds
 *   already (offset ≤ `restoredOffsets[asset]`) are skipped.
 */
import { decodeState, type AssetState, type CompiledConfig } from '../core/index.ts';
import type { DirtyAssets } from './checkpoints.ts';
import { NumberSlabs } from './number-slabs.ts';

export interface PartitionState {
  readonly partition: number;
  /** assetId → state. */
  readonly states: Map<string, AssetState>;
  /** assetId → restored state, encoded (encodeState), until the asset's first record decodes it. */
  readonly stored: Map<string, Uint8Array>;
  /** Where the decoded restored states take their numbers from (number-slabs.ts). */
  readonly numbers: NumberSlabs;
  /** Assets not checkpointed since they changed. */
  readonly dirty: DirtyAssets;
  /** assetId → Kafka timestamp of its last record, epoch ms (absent: unknown, never expires until its next record). */
  readonly lastSeen: Map<string, number>;
  /** The latest Kafka record timestamp of the partition seen so far (the sweep's clock). */
  clockMs: number;
  /** Record time at which the next expiry sweep is due. */
  nextSweepMs: number;
  /** During a replay: assetId → the offset of the last reading its restored state holds. */
  restoredOffsets: Map<string, number> | undefined;
  /** During a replay: the first offset whose outputs are not committed yet. */
  replayUntil: bigint | undefined;
  /** Next offset after the last committed chunk (what a final checkpoint's marker records). */
  position: bigint | undefined;
}

export function newPartitionState(
  partition: number,
  states = new Map<string, AssetState>(),
  lastSeen = new Map<string, number>(),
  stored = new Map<string, Uint8Array>(),
): PartitionState {
  return { partition, states, stored, numbers: new NumberSlabs(), dirty: new Map(), lastSeen, clockMs: 0, nextSweepMs: 0, restoredOffsets: undefined, replayUntil: undefined, position: undefined };
}

/** The asset's state, decoding its restored one on first use; undefined when the partition has none. */
export function stateOf(p: PartitionState, assetId: string, cfg: CompiledConfig): AssetState | undefined {
  const state = p.states.get(assetId);
  if (state !== undefined) return state;
  const bytes = p.stored.get(assetId);
  if (bytes === undefined) return undefined;
  const decoded = decodeState(bytes, { numbers: p.numbers.alloc, config: cfg });
  p.stored.delete(assetId);
  p.states.set(assetId, decoded);
  return decoded;
}

/** Whether the partition holds a state of the asset, decoded or not. */
export function holdsState(p: PartitionState, assetId: string): boolean {
  return p.states.has(assetId) || p.stored.has(assetId);
}

/** Asset states the partition holds, decoded or not. */
export function stateCount(p: PartitionState): number {
  return p.states.size + p.stored.size;
}

/** Drops the asset's state, decoded or not. */
export function dropState(p: PartitionState, assetId: string): void {
  p.states.delete(assetId);
  p.stored.delete(assetId);
}

/**
 * Assets silent for `ttlMs` of record time at the partition's clock: removed from the
 * partition (states, dirty set, last-seen) and returned, for the sweep's tombstones. The
 * logical effect does not depend on when this runs: applyChunk already treats an expired
 * asset's state as gone when its next record arrives.
 */
export function sweepExpired(p: PartitionState, ttlMs: number): string[] {
  const gone: string[] = [];
  for (const [assetId, seen] of p.lastSeen) {
    if (p.clockMs - seen > ttlMs) gone.push(assetId);
  }
  for (const id of gone) {
    dropState(p, id);
    p.dirty.delete(id);
    p.lastSeen.delete(id);
  }
  return gone;
}

/** True while `offset` is below the partition's replay end: fold into the states, write nothing. */
export function isReplaying(p: PartitionState, offset: number): boolean {
  return p.replayUntil !== undefined && BigInt(offset) < p.replayUntil;
}

/** True when the asset's restored state already holds the reading at `offset`. */
export function alreadyHeld(p: PartitionState, assetId: string, offset: number): boolean {
  return offset <= (p.restoredOffsets?.get(assetId) ?? -1);
}

/** Ends the replay once the partition has scored up to `nextOffset`. */
export function advanceReplay(p: PartitionState, nextOffset: bigint): void {
  if (p.replayUntil !== undefined && nextOffset >= p.replayUntil) {
    p.replayUntil = undefined;
    p.restoredOffsets = undefined;
  }
}
