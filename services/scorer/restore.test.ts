import { describe, expect, it } from 'vitest';
import { SlabCopier } from './restore.ts';

describe('SlabCopier', () => {
  it('copies each string into a shared slab, independent of its source', () => {
    const slabs = new SlabCopier();
    const a = Buffer.from('first state');
    const b = Uint8Array.from([1, 2, 3]);
    const ca = slabs.copy(a);
    const cb = slabs.copy(b);
    a.fill(0);
    b.fill(0);
    expect(ca.toString()).toBe('first state');
    expect([...cb]).toEqual([1, 2, 3]);
    expect(cb.buffer).toBe(ca.buffer);
    expect(cb.byteOffset).toBe(ca.byteOffset + ca.length);
    expect(slabs.copied).toBe(14);
  });

  it('starts a new slab when one is full, and gives a large string a buffer of its own', () => {
    const slabs = new SlabCopier();
    const state = Buffer.alloc(3408, 7);
    const copies = Array.from({ length: 400 }, () => slabs.copy(state));
    const buffers = new Set(copies.map((c) => c.buffer));
    // 307 states of 3,408 bytes fit a 1 MiB slab.
    expect(buffers.size).toBe(2);
    expect(copies.every((c) => c.length === 3408 && c[0] === 7 && c[3407] === 7)).toBe(true);
    const big = slabs.copy(Buffer.alloc(300_000, 1));
    expect(buffers.has(big.buffer)).toBe(false);
    expect(big.byteLength).toBe(300_000);
  });
});
