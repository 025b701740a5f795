/**
 * A compiled configuration sent to another thread (the scorer's scoring threads): a
 * structured clone keeps its data (maps, arrays, numbers) but not the classes of the derived
 * parameters' memos. `reviveConfig` rebuilds those from the cloned detector parameters, so
 * the other thread scores exactly as this one does.
 */
import { deriveParams } from './derived.ts';
import type { CompiledConfig } from './types.ts';

export function reviveConfig(cloned: CompiledConfig): CompiledConfig {
  return Object.freeze({ ...cloned, derived: deriveParams(cloned.detector) });
}
