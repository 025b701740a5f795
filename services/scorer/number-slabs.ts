/**
 * The numbers of restored asset states, carved out of a few large buffers instead of one
 * buffer each. After a restore every asset's state is decoded at its first reading, so a
 * partition decodes tens of thousands of them within its first minutes and keeps them. As
 * arrays of their own (about 4.9 KB each, outside the JavaScript heap), their allocations and
 * the collections that the growing outside memory set off took 63 µs a state in the e2e
 * benchmark's restore of 50,000 states (decoded all at once then), against 7 µs for decoding
 * one state on its own (benchmarks/README.md).
 *
 * A slab is freed once no state viewing it is held. Each partition carves its states from
 * slabs of its own (partition-state.ts), so a revoked partition frees its slabs with its
 * states. Until then a state that leaves the partition (an expired asset) or gets a new array
 * (a configuration that adds sensors re-lays the state out) leaves its place in its slab
 * unused: at most the restored states' size, never more.
 */
import type { NumberAllocator } from '../core/index.ts';

/** Numbers per slab: 8 MiB, about 1,700 states of an 8-sensor asset. */
const SLAB_NUMBERS = 1 << 20;

export class NumberSlabs {
  private slab = new Float64Array(0);
  private used = 0;

  /** A zero-filled view of `count` numbers (an array of its own when it is over a quarter of a slab). */
  readonly alloc: NumberAllocator = (count) => {
    if (count > SLAB_NUMBERS / 4) return new Float64Array(count);
    if (this.used + count > this.slab.length) {
      this.slab = new Float64Array(SLAB_NUMBERS);
      this.used = 0;
    }
    const view = this.slab.subarray(this.used, this.used + count);
    this.used += count;
    return view;
  };
}
