/**
 * What a scorer instance holds for one assigned partition of the readings topic, in one
 * place: the asset states, which of them are not yet checkpointed, and where a replay
 * after a restore stands. Nothing here survives a rebalance: on every assignment the
 * partitions are rebuilt from the changelog (restore.ts).
 *
 * Invariants:
 * - `states` are exactly those of the last committed transaction plus the chunks being
 *   scored in the current epoch (a failed transaction triggers a restore).
 * - `dirty` lists, in first-change order, the assets whose state differs from the one
 *   last written to the changelog.
 * - While `replayUntil` is set, readings below it are folded into the states without any
 *   output (their outputs are committed already); readings an asset's restored state holds
 *   already (offset ≤ `restoredOffsets[asset]`) are skipped.
 */
import type { AssetState } from '../core/index.ts';
import type { DirtyAssets } from './checkpoints.ts';

export interface PartitionState {
  readonly partition: number;
  /** assetId → state. */
  readonly states: Map<string, AssetState>;
  /** Assets not checkpointed since they changed. */
  readonly dirty: DirtyAssets;
  /** During a replay: assetId → the offset of the last reading its restored state holds. */
  restoredOffsets: Map<string, number> | undefined;
  /** During a replay: the first offset whose outputs are not committed yet. */
  replayUntil: bigint | undefined;
  /** Next offset after the last committed chunk (what a final checkpoint's marker records). */
  position: bigint | undefined;
}

export function newPartitionState(partition: number, states = new Map<string, AssetState>()): PartitionState {
  return { partition, states, dirty: new Map(), restoredOffsets: undefined, replayUntil: undefined, position: undefined };
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
