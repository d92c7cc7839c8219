import { describe, expect, it } from 'vitest';
import {
  CLAIM_SEQUENCE_INDEX,
  computeGeometry,
  CONSUMER_SEQUENCE_FIELD,
  consumerFieldIndex,
  CURSOR_INDEX,
  REGION_BYTES,
  SLEEPERS_INDEX,
  slotStrideBytes,
} from './layout.js';

const regionOf = (int32Index: number) => Math.floor((int32Index * 4) / REGION_BYTES);

describe('layout', () => {
  it('puts every independently written counter in its own 128-byte region', () => {
    const regions = [
      regionOf(CLAIM_SEQUENCE_INDEX),
      regionOf(CURSOR_INDEX),
      regionOf(SLEEPERS_INDEX),
      ...Array.from({ length: 32 }, (_, id) => regionOf(consumerFieldIndex(id, CONSUMER_SEQUENCE_FIELD))),
    ];
    expect(new Set(regions).size).toBe(regions.length);
    expect(regions).not.toContain(0); // region 0 is the read-only header
  });

  it('starts every variable region on a region boundary and ends the buffer exactly after DATA', () => {
    for (const mode of ['single', 'multi'] as const) {
      const g = computeGeometry(1024, 100, 5, mode);
      expect(g.availableOffsetBytes % REGION_BYTES).toBe(0);
      expect(g.lengthsOffsetBytes % REGION_BYTES).toBe(0);
      expect(g.dataOffsetBytes % REGION_BYTES).toBe(0);
      expect(g.lengthsOffsetBytes - g.availableOffsetBytes).toBe(mode === 'multi' ? 4096 : 0);
      expect(g.dataOffsetBytes - g.lengthsOffsetBytes).toBeGreaterThanOrEqual(4096);
      expect(g.totalBytes).toBe(g.dataOffsetBytes + 1024 * 104);
    }
  });

  it('rounds slot payloads up to 8 bytes, with room for at least 8', () => {
    expect(slotStrideBytes(0)).toBe(8);
    expect(slotStrideBytes(1)).toBe(8);
    expect(slotStrideBytes(64)).toBe(64);
    expect(slotStrideBytes(65)).toBe(72);
  });
});
