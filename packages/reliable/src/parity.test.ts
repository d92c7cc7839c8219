/**
 * Forward error correction, encoder to decoder: a group's one missing datagram is rebuilt
 * byte for byte whichever it is; anything but exactly one missing is left to NAKs.
 */
import { describe, expect, it } from 'vitest';
import { FrameLayout } from '@flux/udp';
import { Sfc32 } from './chaos/prng.js';
import { checkControl } from './control-frames.js';
import {
  ControlType,
  MAX_PARITY_GROUP_DATAGRAMS,
  PARITY_END_SEQUENCE_OFFSET,
  PARITY_LENGTH_XOR_OFFSET,
  PARITY_OVERHEAD_BYTES,
  PARITY_PAYLOAD_OFFSET,
  TYPE_OFFSET,
} from './control-layout.js';
import { ParityDecoder } from './parity-decoder.js';
import { ParityEncoder } from './parity-encoder.js';
import { controlFrameStrideBytes } from './uring-links.js';
import { alignedBytes } from './xor.js';

const MAX_DATAGRAM_BYTES = 1464;
const SESSION = 0xabcd_0123;
const STREAM = 7;

interface Datagram {
  bytes: Uint8Array;
  first: number;
  end: number;
}

/** k datagrams of random lengths (some not a multiple of 4) and frame counts, from sequence `first` (wrapping). */
function group(random: Sfc32, k: number, first: number): Datagram[] {
  const datagrams: Datagram[] = [];
  let sequence = first >>> 0;
  for (let i = 0; i < k; i++) {
    const length = FrameLayout.DATAGRAM_HEADER_BYTES + 4 + random.nextInt(MAX_DATAGRAM_BYTES - 20);
    const bytes = new Uint8Array(length);
    for (let j = 0; j < length; j++) bytes[j] = random.nextInt(256);
    const frames = 1 + random.nextInt(255);
    bytes[FrameLayout.VERSION_OFFSET] = FrameLayout.PROTOCOL_VERSION;
    bytes[FrameLayout.TYPE_OFFSET] = FrameLayout.FrameType.DATA;
    bytes[FrameLayout.DATAGRAM_FLAGS_OFFSET] = 0;
    bytes[FrameLayout.FRAME_COUNT_OFFSET] = frames;
    const view = new DataView(bytes.buffer);
    view.setUint32(FrameLayout.SESSION_ID_OFFSET, SESSION, true);
    view.setUint32(FrameLayout.STREAM_ID_OFFSET, STREAM, true);
    view.setUint32(FrameLayout.SEQUENCE_OFFSET, sequence, true);
    datagrams.push({ bytes, first: sequence, end: (sequence + frames) >>> 0 });
    sequence = (sequence + frames) >>> 0;
  }
  return datagrams;
}

/** The group's PARITY frame, encoded as the sender does (from 4-aligned memory). */
function parityOf(datagrams: Datagram[]): Uint8Array {
  const encoder = new ParityEncoder(datagrams.length, MAX_DATAGRAM_BYTES);
  const memory = alignedBytes(MAX_DATAGRAM_BYTES);
  let full = false;
  for (const datagram of datagrams) {
    memory.bytes.set(datagram.bytes);
    full = encoder.add(memory.bytes, memory.words, 0, datagram.bytes.length, datagram.first, datagram.end);
  }
  expect(full).toBe(true);
  const frame = encoder.frame.slice(0, encoder.close(SESSION, STREAM, { low: 1, high: 2 }));
  encoder.reset();
  return frame;
}

describe('forward error correction', () => {
  it('rebuilds any one missing datagram of a group, byte for byte, across the sequence wrap', () => {
    const random = new Sfc32(5);
    for (const k of [1, 2, 4, 7, MAX_PARITY_GROUP_DATAGRAMS]) {
      const datagrams = group(random, k, 0xffff_ff00 + random.nextInt(512));
      const parity = parityOf(datagrams);
      expect(checkControl(parity, 0, parity.length)).toBe(true);
      expect(parity[TYPE_OFFSET]).toBe(ControlType.PARITY);
      expect(parity.length).toBeLessThanOrEqual(Math.max(...datagrams.map((d) => d.bytes.length)) + PARITY_OVERHEAD_BYTES);
      for (let missing = 0; missing < k; missing++) {
        const decoder = new ParityDecoder(2 * MAX_PARITY_GROUP_DATAGRAMS, MAX_DATAGRAM_BYTES);
        // Arrival order does not matter: the others arrive reversed.
        for (let i = k - 1; i >= 0; i--)
          if (i !== missing) decoder.record(datagrams[i].first, datagrams[i].end, datagrams[i].bytes, 0, datagrams[i].bytes.length);
        const length = decoder.recover(parity, 0, parity.length, datagrams[0].first);
        expect(length).toBe(datagrams[missing].bytes.length);
        expect(decoder.datagram.subarray(0, length)).toEqual(datagrams[missing].bytes);
      }
    }
  });

  it('rebuilds nothing when two are missing, none is, or the hole was already delivered', () => {
    const random = new Sfc32(6);
    const datagrams = group(random, 6, 1000);
    const parity = parityOf(datagrams);
    const recordAllBut = (skip: number[]) => {
      const decoder = new ParityDecoder(64, MAX_DATAGRAM_BYTES);
      datagrams.forEach((d, i) => {
        if (!skip.includes(i)) decoder.record(d.first, d.end, d.bytes, 0, d.bytes.length);
      });
      return decoder;
    };
    expect(recordAllBut([1, 4]).recover(parity, 0, parity.length, 1000)).toBe(0);
    expect(recordAllBut([]).recover(parity, 0, parity.length, 1000)).toBe(0);
    expect(recordAllBut([2]).recover(parity, 0, parity.length, datagrams[3].first)).toBe(0); // delivered past the hole
    expect(recordAllBut([2]).recover(parity, 0, parity.length, datagrams[2].first)).toBe(datagrams[2].bytes.length);
  });

  it('forgets members the history has overwritten, and then rebuilds nothing', () => {
    const random = new Sfc32(7);
    const datagrams = group(random, 4, 0);
    const parity = parityOf(datagrams);
    const decoder = new ParityDecoder(8, MAX_DATAGRAM_BYTES);
    for (const d of datagrams.slice(1)) decoder.record(d.first, d.end, d.bytes, 0, d.bytes.length);
    for (const d of group(random, 6, 100_000)) decoder.record(d.first, d.end, d.bytes, 0, d.bytes.length); // overwrites one member
    expect(decoder.recover(parity, 0, parity.length, 0)).toBe(0);
  });

  it('rebuilds nothing from a parity whose group does not match what arrived', () => {
    const random = new Sfc32(8);
    const datagrams = group(random, 4, 500);
    const good = parityOf(datagrams);
    const decoder = new ParityDecoder(64, MAX_DATAGRAM_BYTES);
    for (const d of datagrams.slice(0, 3)) decoder.record(d.first, d.end, d.bytes, 0, d.bytes.length);
    const view = (frame: Uint8Array) => new DataView(frame.buffer, frame.byteOffset);
    const wrongCount = good.slice();
    wrongCount[3] = 3; // says three datagrams, three are held: nothing missing
    expect(decoder.recover(wrongCount, 0, wrongCount.length, 500)).toBe(0);
    const hugeHole = good.slice();
    view(hugeHole).setUint32(PARITY_END_SEQUENCE_OFFSET, (datagrams[3].first + 300) >>> 0, true); // the hole would be 300 frames: not one datagram
    expect(decoder.recover(hugeHole, 0, hugeHole.length, 500)).toBe(0);
    const badLength = good.slice();
    view(badLength).setUint32(PARITY_LENGTH_XOR_OFFSET, 0xffff, true); // a payload longer than the parity
    expect(decoder.recover(badLength, 0, badLength.length, 500)).toBe(0);
    expect(decoder.recover(good, 0, good.length, 500)).toBe(datagrams[3].bytes.length);
  });

  it('refuses PARITY frames of no datagrams, too many, unknown flags or no parity', () => {
    const random = new Sfc32(9);
    const parity = parityOf(group(random, 3, 0));
    expect(checkControl(parity, 0, parity.length)).toBe(true);
    expect(checkControl(parity, 0, PARITY_PAYLOAD_OFFSET + 3)).toBe(false);
    for (const [offset, value] of [
      [3, 0],
      [3, MAX_PARITY_GROUP_DATAGRAMS + 1],
      [2, 1],
    ]) {
      const bad = parity.slice();
      bad[offset] = value;
      expect(checkControl(bad, 0, bad.length)).toBe(false);
    }
  });
});

describe('the io_uring link’s control pool', () => {
  it('has frames long enough for the longest PARITY a sender of that datagram length writes', () => {
    for (const dataBytes of [64, 1200, 1436, MAX_DATAGRAM_BYTES, 8952]) {
      const encoder = new ParityEncoder(2, dataBytes);
      const memory = alignedBytes(dataBytes);
      const full = new Uint8Array(dataBytes); // a DATA datagram as long as the retransmit buffer's slot
      memory.bytes.set(full);
      encoder.add(memory.bytes, memory.words, 0, dataBytes, 0, 1);
      encoder.add(memory.bytes, memory.words, 0, dataBytes, 1, 2);
      const parityBytes = encoder.close(SESSION, STREAM, { low: 1, high: 2 });
      expect(parityBytes).toBeGreaterThan(dataBytes); // longer than the slot: the pool may not be slot-sized
      expect(controlFrameStrideBytes(dataBytes)).toBeGreaterThanOrEqual(parityBytes);
    }
  });
});
