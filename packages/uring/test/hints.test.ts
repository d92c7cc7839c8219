import { describe, expect, it } from 'vitest';
import { adviseHugePages, allocateHugeBuffer, bindToNode, capability, getAffinity, hugePageResidency, numaInfo, setAffinity } from '../src/index.js';

const native = capability().source === 'native' ? it : it.skip;

describe('placement hints report whether they took effect', () => {
  native('affinity: pins this thread and reads it back', () => {
    const before = getAffinity();
    expect(before.length).toBeGreaterThan(0);
    const pinned = setAffinity([before[0]]);
    expect(pinned).toMatchObject({ applied: true, cpus: [before[0]] });
    expect(setAffinity(before).cpus).toEqual(before); // restore
    const refused = setAffinity([1023]); // a CPU this machine does not have
    expect(refused.applied).toBe(false);
    expect(refused.reason).toMatch(/sched_setaffinity/);
  });

  native('NUMA: lists nodes and binds a buffer to one', () => {
    const info = numaInfo();
    expect(info.nodes.length).toBeGreaterThan(0);
    const outcome = bindToNode(new Uint8Array(1 << 20), info.nodes[0]);
    expect(outcome.applied).toBe(true);
    expect(outcome.bytes).toBeGreaterThan(0);
    expect(bindToNode(new Uint8Array(100), 0)).toMatchObject({ applied: false, reason: 'the buffer holds no whole page' });
  });

  native('huge pages: advises what it can and says why not otherwise', () => {
    const info = numaInfo();
    const advised = adviseHugePages(new Uint8Array(new SharedArrayBuffer(8 << 20)));
    expect(advised.mode).toBe(info.transparentHugePages);
    if (advised.applied) expect(advised.bytes).toBeGreaterThanOrEqual(2 << 20);
    else expect(advised.reason.length).toBeGreaterThan(0);
    expect(adviseHugePages(new Uint8Array(4096))).toMatchObject({ applied: false, bytes: 0 });
    const huge = allocateHugeBuffer(3 << 20);
    expect(huge.buffer.byteLength).toBe(3 << 20);
    if (info.hugePagesReserved === 0) {
      expect(huge.hugeTlb).toBe(false);
      expect(huge.reason).toMatch(/MAP_HUGETLB/);
    }
    new Uint8Array(huge.buffer).fill(1); // the memory is usable
  });

  native('huge pages: residency says what the kernel granted, not what was asked', () => {
    const HUGE_PAGE_BYTES = 2 << 20;
    const info = numaInfo();
    const plain = new Uint8Array(new SharedArrayBuffer(8 << 20));
    plain.fill(1);
    const advisedBytes = new Uint8Array(new SharedArrayBuffer(8 << 20));
    const advised = adviseHugePages(advisedBytes); // before the first touch: the pages are chosen then
    advisedBytes.fill(1);
    const granted = hugePageResidency(advisedBytes);
    expect(granted.reason).toBe('');
    expect(granted.hugePageBytes % HUGE_PAGE_BYTES).toBe(0);
    expect(granted.hugePageBytes).toBeLessThanOrEqual(advised.bytes);
    if (info.transparentHugePages === 'madvise') {
      // Only advised memory gets huge pages in this mode.
      expect(hugePageResidency(plain)).toEqual({ hugePageBytes: 0, reason: '' });
      // With memory to spare (any machine that runs these tests), the kernel grants them at the first touch.
      if (advised.applied) expect(granted.hugePageBytes).toBeGreaterThan(0);
    }
    if (info.transparentHugePages === 'never') expect(granted.hugePageBytes).toBe(0);
    expect(() => hugePageResidency('x' as unknown as Uint8Array)).toThrow(TypeError);
  });
});
