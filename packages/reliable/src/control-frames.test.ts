import { describe, expect, it } from 'vitest';
import { Sfc32 } from './chaos/prng.js';
import { checkControl, readFloat64LE, readUint32LE, writeNakHeader, writeNakRange, writeStatus } from './control-frames.js';

const TOKEN = { low: 0x0102_0304, high: 0xa0b0_c0d0 };
import {
  CONTROL_VERSION,
  COUNT_OFFSET,
  MAX_CONTROL_BYTES,
  TOKEN_HIGH_OFFSET,
  TOKEN_LOW_OFFSET,
  NAK_RANGE_START_OFFSET,
  nakRangeOffset,
  STATUS_BYTES,
  STATUS_ECHO_OFFSET,
  TYPE_OFFSET,
} from './control-layout.js';
import { ReceiverCounters, SenderCounters } from './counters.js';
import { SESSION_TOKEN, Simulation } from '../test/simulation.js';

describe('control frames', () => {
  it('round-trip a STATUS and a NAK', () => {
    const bytes = new Uint8Array(MAX_CONTROL_BYTES);
    expect(writeStatus(bytes, 1, 2, 0xffff_fff0, 65536, 1234, 1, 98765.5, TOKEN)).toBe(STATUS_BYTES);
    expect(checkControl(bytes, 0, STATUS_BYTES)).toBe(true);
    expect(readUint32LE(bytes, 12)).toBe(0xffff_fff0);
    expect(readFloat64LE(bytes, STATUS_ECHO_OFFSET)).toBe(98765.5);
    const length = writeNakHeader(bytes, 1, 2, 3, TOKEN);
    for (let i = 0; i < 3; i++) writeNakRange(bytes, i, 100 * i, 5);
    expect(checkControl(bytes, 0, length)).toBe(true);
    expect(bytes[COUNT_OFFSET]).toBe(3);
    expect(readUint32LE(bytes, nakRangeOffset(2) + NAK_RANGE_START_OFFSET)).toBe(200);
  });

  it('refuses a frame of the wrong length, an unknown type or unknown flags', () => {
    const bytes = new Uint8Array(MAX_CONTROL_BYTES);
    writeStatus(bytes, 1, 2, 3, 4, 5, 0, 0, TOKEN);
    expect(checkControl(bytes, 0, STATUS_BYTES - 1)).toBe(false);
    expect(checkControl(bytes, 0, STATUS_BYTES + 1)).toBe(false);
    bytes[2] = 0x80;
    expect(checkControl(bytes, 0, STATUS_BYTES)).toBe(false);
    bytes[2] = 0;
    bytes[TYPE_OFFSET] = 99;
    expect(checkControl(bytes, 0, STATUS_BYTES)).toBe(false);
    const nak = writeNakHeader(bytes, 1, 2, 0, TOKEN);
    expect(checkControl(bytes, 0, nak)).toBe(false); // a NAK with no range
  });
});

describe('bad datagrams', () => {
  it('never throw out of the receiver or the sender, and each is counted', () => {
    const random = new Sfc32(99);
    const simulation = new Simulation({});
    simulation.run(100, () => simulation.delivered.length === 100);
    const receiverBefore = new ReceiverCounters();
    Object.assign(receiverBefore, simulation.receiverCounters);
    const senderBefore = new SenderCounters();
    Object.assign(senderBefore, simulation.senderCounters);
    const bytes = new Uint8Array(200);
    let sent = 0;
    for (let i = 0; i < 20_000; i++) {
      const length = random.nextInt(200);
      for (let j = 0; j < length; j++) bytes[j] = random.nextInt(256);
      if (i % 2 === 0 && length > 0) bytes[0] = 1 + (i % 4 === 0 ? 1 : 0); // half of them pass a version check (DATA's or control's)
      simulation.receiver.onDatagram(bytes, 0, length, '10.0.0.9', 1, simulation.nowNs);
      simulation.sender.onControl(bytes, 0, length, simulation.nowNs);
      sent++;
    }
    const r = simulation.receiverCounters;
    const s = simulation.senderCounters;
    const receiverCounted = r.malformed + r.noSession + r.foreign - (receiverBefore.malformed + receiverBefore.noSession + receiverBefore.foreign);
    const senderCounted =
      s.malformedControl + s.unknownSession + s.forgedControl - (senderBefore.malformedControl + senderBefore.unknownSession + senderBefore.forgedControl);
    expect(receiverCounted).toBe(sent);
    expect(senderCounted).toBe(sent);
    // The session goes on.
    simulation.run(200, () => simulation.delivered.length === 200);
    expect(simulation.deliveredInOrder(200)).toBe(true);
  });

  it('random PARITY frames from the sender never throw, and each is counted', () => {
    const random = new Sfc32(100);
    const simulation = new Simulation({ sender: { fecGroupDatagrams: 4 } });
    simulation.run(100, () => simulation.delivered.length === 100);
    const before = simulation.receiverCounters.parityReceived + simulation.receiverCounters.malformed;
    const bytes = new Uint8Array(1600);
    const view = new DataView(bytes.buffer);
    for (let i = 0; i < 5_000; i++) {
      const length = 16 + random.nextInt(1584);
      for (let j = 0; j < length; j++) bytes[j] = random.nextInt(256);
      bytes.set([CONTROL_VERSION, 8, 0, 1 + random.nextInt(32)]);
      view.setUint32(4, simulation.sender.sessionId, true);
      view.setUint32(8, simulation.sender.streamId, true);
      view.setUint32(TOKEN_LOW_OFFSET, SESSION_TOKEN.low, true); // the session's own token: these reach the decoder
      view.setUint32(TOKEN_HIGH_OFFSET, SESSION_TOKEN.high, true);
      simulation.receiver.onDatagram(bytes, 0, length, '10.0.0.1', 4000, simulation.nowNs); // the session's own peer
    }
    expect(simulation.receiverCounters.parityReceived + simulation.receiverCounters.malformed - before).toBe(5_000);
    simulation.run(200, () => simulation.delivered.length >= 200);
    expect(simulation.delivered.slice(0, 100)).toEqual([...Array(100).keys()]);
  });
});
