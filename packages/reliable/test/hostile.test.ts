/**
 * Hostile and broken peers against whole sessions on the virtual clock (simulation.ts): an
 * off-path spoofer (knows the session and stream ids and the peers' addresses, never sees
 * a packet), an on-path NAK flood (knows the token), a re-framing middlebox, a sender whose
 * resends never arrive, DATA far outside the window, and a SETUP flood. Every run is
 * deterministic and bounded.
 */
import { describe, expect, it } from 'vitest';
import { Sfc32 } from '../src/chaos/prng.js';
import { writeHeartbeat, writeNakHeader, writeNakRange, writeSetup, writeStatus, writeUnavailable } from '../src/control-frames.js';
import { ControlFlag, MAX_CONTROL_BYTES, MAX_NAK_RANGES, SETUP_BYTES } from '../src/control-layout.js';
import { FrameLayout } from '@flux/udp';
import { sessionMemoryFor } from '../src/receiver.js';
import { MS, PEER, PEER_PORT, SESSION_TOKEN, Simulation } from './simulation.js';

const control = new Uint8Array(MAX_CONTROL_BYTES);

function connected(options: ConstructorParameters<typeof Simulation>[0] = {}, messages = 100): Simulation {
  const simulation = new Simulation(options);
  simulation.run(messages, () => simulation.delivered.length === messages && simulation.sender.caughtUp);
  return simulation;
}

/** Steps until `done` or `maxSteps`; returns whether `done` held. */
function stepUntil(simulation: Simulation, done: () => boolean, maxSteps = 100_000): boolean {
  for (let step = 0; step < maxSteps; step++) {
    if (done()) return true;
    simulation.step();
  }
  return done();
}

/** A NAK for [start, start + length) in every one of MAX_NAK_RANGES ranges, with `token`. */
function nakFrame(simulation: Simulation, start: number, length: number, token: { low: number; high: number }): number {
  const lengthBytes = writeNakHeader(control, simulation.sender.sessionId, simulation.sender.streamId, MAX_NAK_RANGES, token);
  for (let i = 0; i < MAX_NAK_RANGES; i++) writeNakRange(control, i, start, length);
  return lengthBytes;
}

describe('an off-path spoofer (no session token)', () => {
  it('gets nothing resent for forged NAKs: amplification 0 (bytes out / bytes in)', () => {
    const simulation = connected({}, 2_000);
    // Keep datagrams unconsumed (the receiver's STATUS never arrives), so there is much to resend.
    simulation.backwardCut = true;
    simulation.publishUpTo(2_200);
    for (let i = 0; i < 50; i++) simulation.step();
    const random = new Sfc32(5);
    const before = { ...simulation.senderCounters };
    let bytesIn = 0;
    for (let i = 0; i < 10_000; i++) {
      const token = { low: random.nextUint32(), high: random.nextUint32() };
      const lengthBytes = nakFrame(simulation, simulation.sender.consumedSequence, 1 << 20, token);
      bytesIn += lengthBytes;
      simulation.sender.onControl(control, 0, lengthBytes, simulation.nowNs + i * 1000);
    }
    const counters = simulation.senderCounters;
    expect(counters.forgedControl - before.forgedControl).toBe(10_000);
    expect(counters.retransmits - before.retransmits).toBe(0);
    expect(counters.naksReceived - before.naksReceived).toBe(0);
    expect(bytesIn).toBeGreaterThan(0);
  });

  it('cannot end, fail or skip a session: forged UNAVAILABLE, END_OF_STREAM and STATUS change nothing', () => {
    const simulation = connected({ receiver: { onGap: 'skip' } }, 100);
    const forged = { low: SESSION_TOKEN.low ^ 1, high: SESSION_TOKEN.high };
    const { sessionId, streamId } = simulation.sender;
    const next = simulation.sender.nextSequence;
    const unavailable = writeUnavailable(control, sessionId, streamId, next, 1000, forged);
    simulation.receiver.onDatagram(control, 0, unavailable, PEER, PEER_PORT, simulation.nowNs);
    const end = writeHeartbeat(control, sessionId, streamId, next, ControlFlag.END_OF_STREAM, forged);
    simulation.receiver.onDatagram(control, 0, end, PEER, PEER_PORT, simulation.nowNs);
    const status = writeStatus(control, sessionId, streamId, next, 0, 0, 0, 0, forged); // a zero window would stall it
    simulation.sender.onControl(control, 0, status, simulation.nowNs);
    expect(simulation.receiverCounters.forgedControl).toBe(2);
    expect(simulation.senderCounters.forgedControl).toBe(1);
    simulation.run(1_000, () => simulation.delivered.length === 1_000);
    expect(simulation.deliveredInOrder(1_000)).toBe(true);
    expect(simulation.events.map((event) => event.type)).toEqual(['begin']);
  });

  it('gets one CHALLENGE no longer than each spoofed SETUP, and no session (nothing allocated)', () => {
    const simulation = connected({}, 10);
    const random = new Sfc32(6);
    let bytesIn = 0;
    for (let i = 0; i < 1_000; i++) {
      const token = { low: random.nextUint32(), high: random.nextUint32() };
      const lengthBytes = writeSetup(control, random.nextUint32(), 9, random.nextUint32(), token, random.nextUint32(), random.nextUint32());
      bytesIn += lengthBytes;
      simulation.receiver.onDatagram(control, 0, lengthBytes, `192.0.2.${i % 250}`, 1000 + i, simulation.nowNs);
    }
    expect(simulation.receiver.sessionCount).toBe(1); // the real one
    expect(simulation.receiverCounters.challengesSent).toBe(1_000 + 1); // the real sender's first SETUP was challenged too
    expect(simulation.receiverCounters.badCookies).toBe(1_000);
    const bytesOut = simulation.controlToOthers.reduce((sum, frame) => sum + frame.lengthBytes, 0);
    expect(simulation.controlToOthers.length).toBe(1_000);
    expect(bytesOut).toBe(bytesIn); // amplification exactly 1x
    expect(SETUP_BYTES).toBe(simulation.controlToOthers[0].lengthBytes);
  });

  it('drops DATA far outside the window, counted, without NAKs or effect on delivery', () => {
    const simulation = connected({}, 100);
    const naksBefore = simulation.receiverCounters.naksSent;
    const datagram = new Uint8Array(FrameLayout.DATAGRAM_HEADER_BYTES + FrameLayout.FRAME_HEADER_BYTES + 8);
    const view = new DataView(datagram.buffer);
    datagram[FrameLayout.VERSION_OFFSET] = FrameLayout.PROTOCOL_VERSION;
    datagram[FrameLayout.TYPE_OFFSET] = FrameLayout.FrameType.DATA;
    datagram[FrameLayout.FRAME_COUNT_OFFSET] = 1;
    view.setUint32(FrameLayout.SESSION_ID_OFFSET, simulation.sender.sessionId, true);
    view.setUint32(FrameLayout.STREAM_ID_OFFSET, simulation.sender.streamId, true);
    view.setUint16(FrameLayout.DATAGRAM_HEADER_BYTES + FrameLayout.FRAME_LENGTH_OFFSET, 8, true);
    datagram[FrameLayout.DATAGRAM_HEADER_BYTES + FrameLayout.FRAME_FLAGS_OFFSET] = FrameLayout.FrameFlag.UNFRAGMENTED;
    const duplicates = simulation.receiverCounters.duplicates;
    for (const ahead of [2 ** 20, 2 ** 24, 2 ** 30, 2 ** 31 - 1]) {
      view.setUint32(FrameLayout.SEQUENCE_OFFSET, (simulation.sender.nextSequence + ahead) >>> 0, true);
      simulation.receiver.onDatagram(datagram, 0, datagram.length, PEER, PEER_PORT, simulation.nowNs);
    }
    expect(simulation.receiverCounters.outOfWindow).toBe(3);
    expect(simulation.receiverCounters.duplicates - duplicates).toBe(1); // half the sequence space ahead is behind
    for (let i = 0; i < 2_000; i++) simulation.step();
    expect(simulation.receiverCounters.naksSent).toBe(naksBefore);
    simulation.run(1_000, () => simulation.delivered.length === 1_000);
    expect(simulation.deliveredInOrder(1_000)).toBe(true);
  });
});

describe('an on-path NAK flood (the token known)', () => {
  it('resends no more than the NAKs name, and at most one window per round trip', () => {
    // 100 ms each way, a 64 KiB window: the sender may resend 64 KiB per 200 ms. 'static': the
    // receiver's window, not a congestion window, is what the sender fills.
    const windowBytes = 64 * 1024;
    const simulation = connected(
      { receiver: { windowBytes }, sender: { congestionControl: 'static' }, forward: { delayNs: 100 * MS }, backward: { delayNs: 100 * MS } },
      100,
    );
    expect(stepUntil(simulation, () => simulation.sender.rttNs > 150 * MS)).toBe(true);
    simulation.backwardCut = true; // the real receiver's STATUS and NAKs stop: only the flood reaches the sender
    simulation.publishUpTo(10_000);
    for (let i = 0; i < 5_000; i++) simulation.step();
    const held = simulation.sender.buffer.heldBytes;
    expect(held).toBeGreaterThan(windowBytes / 2);
    const before = simulation.senderCounters.retransmits;
    const bytesPerRetransmit = held / simulation.sender.buffer.size;
    const floodNs = 2_000 * MS;
    const start = simulation.nowNs;
    let namedBytes = 0;
    for (let t = 0; t < floodNs; t += 100_000) {
      const lengthBytes = nakFrame(simulation, simulation.sender.consumedSequence, 1 << 20, SESSION_TOKEN);
      simulation.sender.onControl(control, 0, lengthBytes, start + t);
      namedBytes += held; // every NAK names every datagram held
    }
    const resentBytes = (simulation.senderCounters.retransmits - before) * bytesPerRetransmit;
    const rttNs = simulation.sender.rttNs;
    expect(resentBytes).toBeLessThanOrEqual(namedBytes);
    expect(resentBytes).toBeLessThanOrEqual(windowBytes * (1 + floodNs / rttNs) + bytesPerRetransmit);
    expect(simulation.senderCounters.retransmitsWindowLimited).toBeGreaterThan(0);
  });
});

describe('a re-framing middlebox or a spoofed datagram at another frame boundary', () => {
  it('does not wedge the session: the overlapping rest is taken, every message once, in order', () => {
    const simulation = connected({ messageBytes: 16 }, 100);
    simulation.forwardCut = true; // the next datagram is lost on its way
    simulation.publishUpTo(140);
    for (let i = 0; i < 10 && simulation.sender.unpacked() > 0; i++) simulation.step();
    expect(simulation.sender.unpacked()).toBe(0);
    // The sender's datagram of several frames, as the retransmit buffer holds it.
    const buffer = simulation.sender.buffer;
    const slot = buffer.find(simulation.sender.consumedSequence);
    const original = buffer.views[slot].slice(0, buffer.lengthOf(slot));
    const frames = original[FrameLayout.FRAME_COUNT_OFFSET];
    expect(frames).toBeGreaterThan(4);
    // Delivered first: the same data framed differently, its first 3 frames only.
    let position = FrameLayout.DATAGRAM_HEADER_BYTES;
    for (let frame = 0; frame < 3; frame++) position += FrameLayout.FRAME_HEADER_BYTES + (original[position] | (original[position + 1] << 8));
    const prefix = original.slice(0, position);
    prefix[FrameLayout.FRAME_COUNT_OFFSET] = 3;
    simulation.receiver.onDatagram(prefix, 0, prefix.length, PEER, PEER_PORT, simulation.nowNs);
    expect(simulation.delivered.length).toBe(103);
    simulation.forwardCut = false;
    simulation.run(1_000, () => simulation.delivered.length === 1_000 && simulation.sender.caughtUp, 50_000);
    expect(simulation.deliveredInOrder(1_000)).toBe(true);
    expect(simulation.corrupted).toBe(0);
    expect(simulation.receiverCounters.overlapsTrimmed).toBeGreaterThan(0);
    expect(simulation.events.map((event) => event.type)).toEqual(['begin']);
  });
});

describe('a gap that never fills', () => {
  for (const onGap of ['fail', 'skip'] as const) {
    it(`ends in '${onGap === 'fail' ? 'failed' : 'gap'}' after maxNakRounds NAKs, never a hang (onGap '${onGap}')`, () => {
      let lost = -1;
      // Every copy of one datagram is lost: a path that never carries it, a sender that never resends.
      const simulation = new Simulation({
        receiver: { onGap, maxNakRounds: 8 },
        dropData: (first) => {
          if (lost < 0 && first !== 0xffff_ff00) lost = first; // the second datagram of the stream
          return first === lost;
        },
      });
      const count = 2_000;
      const ended = stepUntil(simulation, () => {
        simulation.publishUpTo(count);
        return simulation.events.some((event) => event.type === 'failed' || event.type === 'gap');
      });
      expect(ended).toBe(true);
      expect(simulation.receiverCounters.gapsGivenUp).toBe(1);
      const event = simulation.events.find((e) => e.type === 'failed' || e.type === 'gap')!;
      expect(event.type).toBe(onGap === 'fail' ? 'failed' : 'gap');
      if (event.type === 'failed') expect(event.reason).toMatch(/after 8 NAKs/);
      if (onGap === 'skip') {
        // The rest arrives in order, only the lost datagram's messages missing.
        simulation.run(count, () => simulation.sender.caughtUp && simulation.sender.unpacked() === 0 && simulation.published === count, 100_000);
        const delivered = simulation.delivered;
        expect(new Set(delivered).size).toBe(delivered.length);
        expect(delivered.every((index, i) => i === 0 || index > delivered[i - 1])).toBe(true);
        expect(count - delivered.length).toBeGreaterThan(0);
        expect(count - delivered.length).toBeLessThan(255);
      }
    });
  }

  it('is not given up while resends fill it (heavy loss, every gap repaired)', () => {
    const simulation = new Simulation({ receiver: { maxNakRounds: 8 }, forward: { lossPercent: 30 }, backward: { lossPercent: 10 } });
    simulation.run(3_000, () => simulation.delivered.length === 3_000, 400_000);
    expect(simulation.deliveredInOrder(3_000)).toBe(true);
    expect(simulation.receiverCounters.gapsGivenUp).toBe(0);
  });
});

describe('a reordered STATUS', () => {
  it('is counted stale, not malformed, and changes nothing', () => {
    const simulation = connected({}, 100);
    const { sessionId, streamId } = simulation.sender;
    const old = (simulation.sender.consumedSequence - 5) >>> 0;
    const lengthBytes = writeStatus(control, sessionId, streamId, old, 1 << 20, 0, 0, 0, SESSION_TOKEN);
    const malformed = simulation.senderCounters.malformedControl;
    simulation.sender.onControl(control, 0, lengthBytes, simulation.nowNs);
    expect(simulation.senderCounters.staleStatus).toBe(1);
    expect(simulation.senderCounters.malformedControl).toBe(malformed);
    expect(simulation.sender.consumedSequence).toBe((old + 5) >>> 0);
  });
});

describe("flow control under retransmitPolicy 'overwrite'", () => {
  it('never sends more than the window past what the receiver consumed, evicted datagrams included', () => {
    const windowBytes = 64 * 1024;
    // 8 datagrams of history against a 64 KiB window: the buffer, not the window, fills first
    // ('static': the receiver's window, not a congestion window, bounds the sender).
    const simulation = connected(
      { receiver: { windowBytes }, sender: { retransmitPolicy: 'overwrite', retransmitBufferDatagrams: 8, congestionControl: 'static' } },
      100,
    );
    simulation.backwardCut = true; // no STATUS: nothing more is consumed
    const sentBefore = simulation.senderCounters.bytesSent;
    simulation.publishUpTo(100_000);
    for (let i = 0; i < 20_000; i++) {
      simulation.publishUpTo(100_000);
      simulation.step();
    }
    const sentBytes = simulation.senderCounters.bytesSent - sentBefore;
    expect(sentBytes).toBeGreaterThan(windowBytes / 2);
    expect(sentBytes).toBeLessThanOrEqual(windowBytes + simulation.sender.buffer.datagramBytes);
    expect(simulation.senderCounters.flowControlStalls).toBeGreaterThan(0);
  });
});

describe('memory per session', () => {
  it('is what sessionMemoryFor states: the loss detector at begin, the window at the first held datagram, FEC at the first PARITY', () => {
    const receiver = { windowBytes: 256 * 1024, windowDatagrams: 512, maxDatagramBytes: 1472 };
    const stated = sessionMemoryFor(receiver, 1 << 20);
    const lossless = connected({ receiver }, 1_000);
    expect(lossless.receiver.allocatedBytes).toBe(stated.beginBytes); // nothing held, no FEC: only the loss detector
    const lossy = connected({ receiver, forward: { lossPercent: 5 }, sender: { fecGroupDatagrams: 4 } }, 2_000);
    expect(lossy.receiverCounters.outOfOrder).toBeGreaterThan(0);
    expect(lossy.receiver.allocatedBytes).toBe(stated.beginBytes + stated.windowBytes + stated.fecBytes);
    expect(stated.maxBytes).toBe(stated.beginBytes + stated.windowBytes + stated.fecBytes + (1 << 20));
  });
});
