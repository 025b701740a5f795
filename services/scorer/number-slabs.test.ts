import { describe, expect, it } from 'vitest';
import { NumberSlabs } from './number-slabs.ts';

describe('NumberSlabs', () => {
  it('gives zero-filled views that never overlap, across slabs', () => {
    const slabs = new NumberSlabs();
    const views = Array.from({ length: 600 }, () => slabs.alloc(4000));
    views.forEach((v, i) => {
      expect(v.length).toBe(4000);
      expect(v.every((x) => x === 0)).toBe(true);
      v.fill(i + 1);
    });
    // Each view still holds what was written into it: no later view overwrote it.
    views.forEach((v, i) => expect(v.every((x) => x === i + 1)).toBe(true));
    expect(new Set(views.map((v) => v.buffer)).size).toBeGreaterThan(1);
  });

  it('gives an array over a quarter of a slab a buffer of its own', () => {
    const slabs = new NumberSlabs();
    const small = slabs.alloc(10);
    const big = slabs.alloc(1 << 19);
    expect(big.buffer).not.toBe(small.buffer);
    expect(big.buffer.byteLength).toBe(8 * (1 << 19));
  });
});
