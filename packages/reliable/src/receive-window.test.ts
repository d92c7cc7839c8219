import { describe, expect, it } from 'vitest';
import { ReceiveWindow, StoreResult } from './receive-window.js';

const datagram = (fill: number) => new Uint8Array(32).fill(fill);

describe('ReceiveWindow', () => {
  it('holds near datagrams in the ring and gives them back by first sequence', () => {
    const window = new ReceiveWindow(64, 8, 32, 2);
    expect(window.store(10, 3, datagram(7), 0, 32, 10)).toBe(StoreResult.STORED);
    expect(window.framesAt(10)).toBe(3);
    expect(window.framesAt(11)).toBe(0);
    const slot = window.take(10);
    expect(window.bytes[window.offsetOf(slot)]).toBe(7);
    expect(window.framesOf(slot)).toBe(3);
    window.release(slot);
    expect(window.take(10)).toBe(-1);
    expect(window.size).toBe(0);
  });

  it('drops a duplicate, near or far', () => {
    const window = new ReceiveWindow(64, 8, 32, 2);
    window.store(5, 1, datagram(1), 0, 32, 5);
    expect(window.store(5, 1, datagram(1), 0, 32, 5)).toBe(StoreResult.DUPLICATE);
    window.store(500, 1, datagram(1), 0, 32, 500);
    expect(window.store(500, 1, datagram(1), 0, 32, 500)).toBe(StoreResult.DUPLICATE);
    // Still held in the far map once the window has caught up with it.
    expect(window.store(500, 1, datagram(1), 0, 32, 10)).toBe(StoreResult.DUPLICATE);
    expect(window.take(500)).toBeGreaterThanOrEqual(0);
  });

  it('bounds the far map whatever sequences arrive', () => {
    const window = new ReceiveWindow(64, 8, 32, 2);
    for (let i = 0; i < 1000; i++) window.store((1000 + i * 977) >>> 0, 1, datagram(1), 0, 32, 1000 + i * 977);
    expect(window.farSize).toBe(2);
    expect(window.size).toBeLessThanOrEqual(8);
  });

  it('makes room for a nearer datagram by evicting the furthest when full', () => {
    const window = new ReceiveWindow(64, 2, 32, 2);
    window.store(10, 1, datagram(1), 0, 32, 10);
    window.store(20, 1, datagram(2), 0, 32, 20);
    expect(window.store(5, 1, datagram(3), 0, 32, 5)).toBe(StoreResult.STORED);
    expect(window.has(20)).toBe(false);
    expect(window.has(10)).toBe(true);
    expect(window.evictions).toBe(1);
    // A datagram further than everything held is refused instead.
    expect(window.store(30, 1, datagram(4), 0, 32, 30)).toBe(StoreResult.FULL);
  });

  it('discards what lies before a skipped gap', () => {
    const window = new ReceiveWindow(64, 8, 32, 2);
    window.store(3, 1, datagram(1), 0, 32, 3);
    window.store(9, 1, datagram(1), 0, 32, 9);
    window.store(300, 1, datagram(1), 0, 32, 300);
    expect(window.discardBefore(10)).toBe(2);
    expect(window.has(300)).toBe(true);
    expect(window.size).toBe(1);
  });

  it('works across the u32 wrap of sequences', () => {
    const window = new ReceiveWindow(64, 8, 32, 2);
    expect(window.store(2, 1, datagram(9), 0, 32, 6)).toBe(StoreResult.STORED); // expected 0xfffffffc
    expect(window.framesAt(2)).toBe(1);
    expect(window.discardBefore(0xffff_fffe)).toBe(0);
  });

  it('rejects a ring size that is not a power of two', () => {
    expect(() => new ReceiveWindow(100, 8, 32, 2)).toThrow(/power of two.*100/);
  });
});
