import { FluxRangeError } from '@flux/ring';
import { PROTOCOL_VERSION } from '@flux/udp';
import { describe, expect, it } from 'vitest';
import { ChaosLink, type ChaosOptions } from './chaos-link.js';
import { CONTROL_VERSION } from '../control-layout.js';
import { CONTROL_VERSION_BYTE, VALID_VERSION_BYTE } from './corruption.js';

const STEP_NS = 1_000;
const ID_OFFSET = 4;
const HEADER_BYTES = ID_OFFSET + 4;

interface Delivered {
  bytes: number[];
  atNs: number;
}

/** A datagram that looks like Flux: version 1, a type, and `id` (uint32 LE) at ID_OFFSET. */
function datagram(id: number, payloadBytes = 0): Uint8Array {
  const bytes = new Uint8Array(HEADER_BYTES + payloadBytes);
  bytes[0] = VALID_VERSION_BYTE;
  bytes[1] = 1;
  new DataView(bytes.buffer).setUint32(ID_OFFSET, id, true);
  for (let index = HEADER_BYTES; index < bytes.length; index++) bytes[index] = (id + index) & 0xff;
  return bytes;
}

function idOf(bytes: number[]): number {
  return new DataView(Uint8Array.from(bytes).buffer).getUint32(ID_OFFSET, true);
}

/** Pushes `count` datagrams STEP_NS apart, polling at every step, then drains. */
function run(options: ChaosOptions, count: number, payloadBytes = (id: number) => id % 23) {
  const link = new ChaosLink(options);
  const delivered: Delivered[] = [];
  let nowNs = 0;
  const deliver = (bytes: Uint8Array, offsetBytes: number, lengthBytes: number) =>
    delivered.push({ bytes: Array.from(bytes.subarray(offsetBytes, offsetBytes + lengthBytes)), atNs: nowNs });
  for (let id = 0; id < count; id++) {
    nowNs = id * STEP_NS;
    link.poll(nowNs, deliver);
    link.push(datagram(id, payloadBytes(id)), 0, HEADER_BYTES + payloadBytes(id), nowNs);
  }
  // Drain at each remaining due time (every poll delivers at least one, so this ends).
  for (let dueNs = link.nextDueNs(); dueNs !== undefined; dueNs = link.nextDueNs()) {
    nowNs = dueNs;
    expect(link.poll(nowNs, deliver)).toBeGreaterThan(0);
  }
  expect(link.queued).toBe(0);
  expect(link.nextDueNs()).toBeUndefined();
  return { link, delivered, counters: link.counters };
}

/** Ids of the datagrams that never arrived, for a run without corruption. */
function lostIds(delivered: Delivered[], count: number): number[] {
  const seen = new Set(delivered.map((entry) => idOf(entry.bytes)));
  return Array.from({ length: count }, (_, id) => id).filter((id) => !seen.has(id));
}

const EVERYTHING: Omit<ChaosOptions, 'seed'> = {
  lossPercent: 3,
  burstStartPercent: 1,
  burstLength: 4,
  duplicatePercent: 5,
  reorderPercent: 5,
  reorderDelayNs: 20 * STEP_NS,
  delayNs: 3 * STEP_NS,
  jitterNs: 4 * STEP_NS,
  corruptPercent: 5,
};

describe('ChaosLink', () => {
  it('delivers the identical sequence for the same seed, and a different one for another seed', () => {
    const first = run({ seed: 7, ...EVERYTHING }, 5_000).delivered;
    const again = run({ seed: 7, ...EVERYTHING }, 5_000).delivered;
    const other = run({ seed: 8, ...EVERYTHING }, 5_000).delivered;
    expect(first.length).toBeGreaterThan(4_000);
    expect(again).toEqual(first);
    expect(other).not.toEqual(first);
  });

  it('with no impairments delivers everything unchanged, in order, exactly delayNs after the push', () => {
    const delayNs = 5 * STEP_NS;
    const count = 1_000;
    const { delivered, counters } = run({ seed: 1, lossPercent: 0, delayNs }, count);
    expect(delivered.length).toBe(count);
    delivered.forEach((entry, id) => {
      expect(entry.bytes).toEqual(Array.from(datagram(id, id % 23)));
      expect(entry.atNs).toBe(id * STEP_NS + delayNs);
    });
    expect(counters.snapshot()).toEqual({ pushed: count, lost: 0, duplicated: 0, reordered: 0, corrupted: 0, delivered: count, overflowed: 0 });
  });

  it('holds a copy until exactly nowNs + delayNs, and reports it as nextDueNs', () => {
    const link = new ChaosLink({ seed: 1, delayNs: 500 });
    const received: number[] = [];
    const deliver = (bytes: Uint8Array, offsetBytes: number) => received.push(bytes[offsetBytes + ID_OFFSET]);
    expect(link.nextDueNs()).toBeUndefined();
    link.push(datagram(9), 0, HEADER_BYTES, 1_000);
    expect(link.nextDueNs()).toBe(1_500);
    expect(link.poll(1_499, deliver)).toBe(0);
    expect(link.poll(1_500, deliver)).toBe(1);
    expect(received).toEqual([9]);
    expect(link.nextDueNs()).toBeUndefined();
  });

  it('delivers copies due at the same time in push order', () => {
    const link = new ChaosLink({ seed: 3, duplicatePercent: 50 });
    for (let id = 0; id < 100; id++) link.push(datagram(id), 0, HEADER_BYTES, 0);
    const ids: number[] = [];
    expect(link.poll(0, (bytes) => ids.push(bytes[ID_OFFSET]))).toBe(100 + link.counters.duplicated);
    expect(link.counters.duplicated).toBeGreaterThan(0);
    expect(ids).toEqual([...ids].sort((left, right) => left - right));
  });

  it('loses about lossPercent of 100,000 datagrams, exactly the pinned count for its seed', () => {
    const count = 100_000;
    const { counters, delivered } = run({ seed: 12345, lossPercent: 5 }, count, () => 0);
    // Binomial(100000, 0.05): mean 5000, sd 69; the band is +-5 sd.
    expect(counters.lost).toBeGreaterThan(4_650);
    expect(counters.lost).toBeLessThan(5_350);
    expect(counters.lost).toBe(PINNED_LOST_SEED_12345);
    expect(delivered.length).toBe(count - counters.lost);
  });

  it('loses datagrams in runs of burstLength', () => {
    const count = 20_000;
    const burstLength = 7;
    const { counters, delivered } = run({ seed: 99, burstStartPercent: 1, burstLength }, count);
    const runs: number[] = [];
    let runLength = 0;
    let lastLost = -2;
    for (const id of [...lostIds(delivered, count), -1]) {
      if (runLength > 0 && id !== lastLost + 1) {
        if (lastLost !== count - 1) runs.push(runLength); // a run cut off by the end is shorter
        runLength = 0;
      }
      runLength++;
      lastLost = id;
    }
    expect(runs.length).toBeGreaterThan(50);
    for (const length of runs) expect(length % burstLength).toBe(0);
    expect(counters.lost).toBe(count - delivered.length);
  });

  it('makes which datagrams are lost depend only on the seed and the loss options', () => {
    const count = 5_000;
    const lossOnly = run({ seed: 21, lossPercent: 4, burstStartPercent: 1, burstLength: 3 }, count);
    const withEverythingElse = run({ seed: 21, ...EVERYTHING, corruptPercent: 0, lossPercent: 4, burstStartPercent: 1, burstLength: 3 }, count);
    expect(lossOnly.counters.lost).toBeGreaterThan(0);
    expect(lostIds(withEverythingElse.delivered, count)).toEqual(lostIds(lossOnly.delivered, count));
  });

  it('delivers pushed - lost + duplicated copies, each extra copy a true duplicate', () => {
    const count = 10_000;
    const { counters, delivered } = run({ seed: 4, lossPercent: 10, duplicatePercent: 20, jitterNs: 3 * STEP_NS }, count);
    expect(counters.duplicated).toBeGreaterThan(1_000);
    expect(delivered.length).toBe(counters.pushed - counters.lost + counters.duplicated);
    expect(counters.delivered).toBe(delivered.length);
    const copies = new Map<number, number>();
    for (const entry of delivered) {
      const id = idOf(entry.bytes);
      expect(entry.bytes).toEqual(Array.from(datagram(id, id % 23)));
      copies.set(id, (copies.get(id) ?? 0) + 1);
    }
    expect([...copies.values()].every((copiesOfOne) => copiesOfOne <= 2)).toBe(true);
    expect([...copies.values()].filter((copiesOfOne) => copiesOfOne === 2).length).toBe(counters.duplicated);
  });

  it('reorders: a held-back datagram arrives after a later-pushed one', () => {
    const { counters, delivered } = run({ seed: 5, reorderPercent: 10, reorderDelayNs: 10 * STEP_NS }, 1_000);
    const ids = delivered.map((entry) => idOf(entry.bytes));
    const overtaken = ids.filter((id, index) => index > 0 && id < Math.max(...ids.slice(0, index)));
    expect(counters.reordered).toBeGreaterThan(50);
    expect(overtaken.length).toBe(counters.reordered);
    expect([...ids].sort((left, right) => left - right)).toEqual(Array.from({ length: 1_000 }, (_, id) => id));
  });

  it('corrupts only detectably: shorter than the original, or byte 0 is not the version', () => {
    const count = 5_000;
    const { counters, delivered } = run({ seed: 6, corruptPercent: 30 }, count, (id) => id % 40);
    expect(delivered.length).toBe(count);
    let changed = 0;
    const kinds = { truncatedKeepingVersion: 0, sameLengthBadVersion: 0, empty: 0 };
    delivered.forEach((entry, id) => {
      const original = Array.from(datagram(id, id % 40));
      if (JSON.stringify(entry.bytes) === JSON.stringify(original)) return;
      changed++;
      const shorter = entry.bytes.length < original.length;
      expect(shorter || entry.bytes[0] !== VALID_VERSION_BYTE).toBe(true);
      if (shorter && entry.bytes.length > 0 && entry.bytes[0] === VALID_VERSION_BYTE) kinds.truncatedKeepingVersion++;
      if (!shorter) kinds.sameLengthBadVersion++;
      if (entry.bytes.length === 0) kinds.empty++;
    });
    expect(counters.corrupted).toBeGreaterThan(1_000);
    expect(changed).toBe(counters.corrupted);
    expect(kinds.truncatedKeepingVersion).toBeGreaterThan(0);
    expect(kinds.sameLengthBadVersion).toBeGreaterThan(0);
    expect(kinds.empty).toBeGreaterThan(0);
  });

  it('with corruptPercent 100 damages every non-empty datagram detectably', () => {
    const count = 20_000;
    const { counters, delivered } = run({ seed: 11, corruptPercent: 100 }, count, () => 0);
    expect(delivered.length).toBe(count);
    expect(counters.corrupted).toBe(count);
    for (const entry of delivered) {
      expect(entry.bytes.length < HEADER_BYTES || (entry.bytes[0] !== VALID_VERSION_BYTE && entry.bytes[0] !== CONTROL_VERSION_BYTE)).toBe(true);
    }
  });

  it('never corrupts an empty datagram (nothing could detect it)', () => {
    const link = new ChaosLink({ seed: 1, corruptPercent: 100 });
    for (let index = 0; index < 10; index++) link.push(new Uint8Array(0), 0, 0, 0);
    const lengths: number[] = [];
    link.poll(0, (_bytes, _offsetBytes, lengthBytes) => lengths.push(lengthBytes));
    expect(lengths).toEqual(new Array(10).fill(0));
    expect(link.counters.corrupted).toBe(0);
  });

  it('keeps its version bytes equal to the wire formats: DATA and control frames', () => {
    expect(VALID_VERSION_BYTE).toBe(PROTOCOL_VERSION);
    expect(CONTROL_VERSION_BYTE).toBe(CONTROL_VERSION);
  });

  it('drops and counts copies beyond maxQueued, and accepts more once polled', () => {
    const link = new ChaosLink({ seed: 2, maxQueued: 10, delayNs: 100 });
    for (let id = 0; id < 15; id++) link.push(datagram(id), 0, HEADER_BYTES, 0);
    expect(link.queued).toBe(10);
    expect(link.counters.overflowed).toBe(5);
    const ids: number[] = [];
    expect(link.poll(100, (bytes) => ids.push(bytes[ID_OFFSET]))).toBe(10);
    expect(ids).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    link.push(datagram(20), 0, HEADER_BYTES, 200);
    expect(link.queued).toBe(1);
    expect(link.counters.snapshot()).toMatchObject({ pushed: 16, delivered: 10, overflowed: 5 });
  });

  it('reuses its copies: in steady state every delivery hands over the same buffer', () => {
    const link = new ChaosLink({ seed: 2 });
    const buffers = new Set<Uint8Array>();
    for (let id = 0; id < 100; id++) {
      link.push(datagram(id, id % 50), 0, HEADER_BYTES + (id % 50), id);
      link.poll(id, (bytes) => buffers.add(bytes));
    }
    expect(link.counters.delivered).toBe(100);
    expect(buffers.size).toBe(1);
  });

  it('copies on push, from the given offset and length', () => {
    const link = new ChaosLink({ seed: 2 });
    const source = Uint8Array.from([9, 1, 2, 3, 9]);
    link.push(source, 1, 3, 0);
    source.fill(0);
    const received: number[][] = [];
    link.poll(0, (bytes, offsetBytes, lengthBytes) => received.push(Array.from(bytes.subarray(offsetBytes, offsetBytes + lengthBytes))));
    expect(received).toEqual([[1, 2, 3]]);
  });

  it('counts a copy whose handler throws as delivered and keeps the rest queued', () => {
    const link = new ChaosLink({ seed: 2 });
    for (let id = 0; id < 3; id++) link.push(datagram(id), 0, HEADER_BYTES, 0);
    expect(() =>
      link.poll(0, () => {
        throw new Error('handler failed');
      }),
    ).toThrow('handler failed');
    expect(link.counters.delivered).toBe(1);
    expect(link.queued).toBe(2);
    expect(link.poll(0, () => {})).toBe(2);
  });

  it.each([
    [{ lossPercent: 101 }, RangeError, /lossPercent.*101/],
    [{ lossPercent: -1 }, RangeError, /lossPercent.*-1/],
    [{ lossPercent: Number.NaN }, RangeError, /lossPercent.*NaN/],
    [{ burstStartPercent: 5 }, TypeError, /burstLength is required.*5/],
    [{ burstStartPercent: 5, burstLength: 0 }, RangeError, /burstLength.*got 0/],
    [{ burstLength: 1.5 }, RangeError, /burstLength.*1\.5/],
    [{ duplicatePercent: 200 }, RangeError, /duplicatePercent.*200/],
    [{ reorderPercent: 100.5 }, RangeError, /reorderPercent.*100\.5/],
    [{ reorderDelayNs: -5 }, RangeError, /reorderDelayNs.*-5/],
    [{ delayNs: 0.5 }, RangeError, /delayNs.*0\.5/],
    [{ jitterNs: Number.POSITIVE_INFINITY }, RangeError, /jitterNs.*Infinity/],
    [{ corruptPercent: '5' }, TypeError, /corruptPercent.*5/],
    [{ maxQueued: 0 }, RangeError, /maxQueued.*got 0/],
    [{ maxDatagramBytes: -1 }, RangeError, /maxDatagramBytes.*-1/],
    [{ seed: 1.25 }, RangeError, /seed.*1\.25/],
    [{ seed: undefined }, TypeError, /seed.*undefined/],
    [{ lossPercentage: 5 }, TypeError, /unknown chaos option lossPercentage/],
  ])('rejects options %j naming the bad value', (bad, errorType, message) => {
    const options = { seed: 1, ...bad } as unknown as ChaosOptions;
    expect(() => new ChaosLink(options)).toThrow(errorType);
    expect(() => new ChaosLink(options)).toThrow(message);
  });

  it('rejects bad pushes and polls naming the bad value', () => {
    const link = new ChaosLink({ seed: 1, maxDatagramBytes: 100 });
    const bytes = new Uint8Array(200);
    expect(() => link.push(bytes, 0, 101, 0)).toThrow(new FluxRangeError('lengthBytes 101 exceeds maxDatagramBytes 100'));
    expect(() => link.push(bytes, 150, 60, 0)).toThrow(/lengthBytes .* got 60/);
    expect(() => link.push(bytes, -1, 1, 0)).toThrow(/offsetBytes .* got -1/);
    expect(() => link.push(bytes, 0, 1, Number.NaN)).toThrow(/nowNs .* got NaN/);
    expect(() => link.push([1] as unknown as Uint8Array, 0, 1, 0)).toThrow(TypeError);
    expect(() => link.poll(Number.NaN, () => {})).toThrow(RangeError);
    expect(link.counters.pushed).toBe(0);
  });
});

const PINNED_LOST_SEED_12345 = 5_015;
