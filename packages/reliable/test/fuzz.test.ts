/**
 * Fuzzing every frame type into live sessions on the virtual clock (fast-check, seeded and
 * bounded): well-formed frames of each type with arbitrary fields, then arbitrary byte
 * mutations and truncations, injected into the receiver and the sender between steps.
 *
 *  - off the path (a wrong token, DATA from another address): nothing may change: every
 *    message delivered once, in order, and no event but 'begin';
 *  - on the path (the session's token and address, the worst a peer can do): nothing may
 *    throw or hang, and the session ends, if at all, only by a documented event.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FrameLayout } from '@flux/udp';
import {
  writeChallenge,
  writeHeartbeat,
  writeNakHeader,
  writeNakRange,
  writeRttEcho,
  writeSetup,
  writeStatus,
  writeUnavailable,
  writeHeader,
  writeUint32LE,
} from '../src/control-frames.js';
import { ControlType, PARITY_END_SEQUENCE_OFFSET, PARITY_LENGTH_XOR_OFFSET, PARITY_PAYLOAD_OFFSET } from '../src/control-layout.js';
import { PEER, PEER_PORT, SESSION_TOKEN, Simulation } from './simulation.js';

const KINDS = ['SETUP', 'STATUS', 'NAK', 'HEARTBEAT', 'RTT_ECHO', 'UNAVAILABLE', 'PARITY', 'CHALLENGE', 'DATA'] as const;
const DOCUMENTED_EVENTS = new Set(['begin', 'gap', 'end', 'timeout', 'failed']);

interface FrameSpec {
  kind: number;
  words: number[];
  mutations: { at: number; value: number }[];
  truncateTo: number | null;
  toSender: boolean;
}

const frameSpec = fc.record({
  kind: fc.integer({ min: 0, max: KINDS.length - 1 }),
  words: fc.array(fc.integer({ min: 0, max: 0xffff_ffff }), { minLength: 6, maxLength: 6 }),
  mutations: fc.array(fc.record({ at: fc.nat({ max: 1500 }), value: fc.integer({ min: 0, max: 255 }) }), { maxLength: 4 }),
  truncateTo: fc.option(fc.nat({ max: 1500 }), { nil: null }),
  toSender: fc.boolean(),
});

/**
 * One frame of `spec.kind` for the simulation's session, into `bytes`; returns its length.
 * `near` moves sequence fields next to the session's own, so some frames hit live state.
 */
function build(spec: FrameSpec, simulation: Simulation, token: { low: number; high: number }, bytes: Uint8Array): number {
  const { sessionId, streamId } = simulation.sender;
  const [a, b, c, d, e, f] = spec.words;
  const near = (simulation.sender.consumedSequence + (a % 4096) - 2048) >>> 0;
  let length: number;
  switch (KINDS[spec.kind]) {
    case 'SETUP':
      length = writeSetup(bytes, sessionId, streamId, near, token, b, c);
      break;
    case 'STATUS':
      length = writeStatus(bytes, sessionId, streamId, near, b, c, d & 1, e, token);
      break;
    case 'NAK': {
      const ranges = 1 + (b % 8);
      length = writeNakHeader(bytes, sessionId, streamId, ranges, token);
      for (let i = 0; i < ranges; i++) writeNakRange(bytes, i, (near + i * (c % 64)) >>> 0, d % 10_000);
      break;
    }
    case 'HEARTBEAT':
      length = writeHeartbeat(bytes, sessionId, streamId, near, b & 1, token);
      break;
    case 'RTT_ECHO':
      length = writeRttEcho(bytes, sessionId, streamId, b * 1000, token);
      break;
    case 'UNAVAILABLE':
      length = writeUnavailable(bytes, sessionId, streamId, near, b % 10_000, token);
      break;
    case 'PARITY':
      writeHeader(bytes, ControlType.PARITY, 0, 1 + (b % 32), sessionId, streamId, near, token);
      writeUint32LE(bytes, PARITY_END_SEQUENCE_OFFSET, (near + (c % 300)) >>> 0);
      writeUint32LE(bytes, PARITY_LENGTH_XOR_OFFSET, d % 2000);
      length = PARITY_PAYLOAD_OFFSET + 4 + (e % 1000);
      for (let i = PARITY_PAYLOAD_OFFSET; i < length; i++) bytes[i] = (f + i) & 0xff;
      break;
    case 'CHALLENGE':
      length = writeChallenge(bytes, sessionId, streamId, near, token, b, c);
      break;
    default: {
      // DATA: 1 to 8 frames of arbitrary flags and lengths (often a valid frame list).
      const frames = 1 + (b % 8);
      bytes[FrameLayout.VERSION_OFFSET] = FrameLayout.PROTOCOL_VERSION;
      bytes[FrameLayout.TYPE_OFFSET] = FrameLayout.FrameType.DATA;
      bytes[FrameLayout.DATAGRAM_FLAGS_OFFSET] = 0;
      bytes[FrameLayout.FRAME_COUNT_OFFSET] = frames;
      writeUint32LE(bytes, FrameLayout.SESSION_ID_OFFSET, sessionId);
      writeUint32LE(bytes, FrameLayout.STREAM_ID_OFFSET, streamId);
      writeUint32LE(bytes, FrameLayout.SEQUENCE_OFFSET, near);
      let position = FrameLayout.DATAGRAM_HEADER_BYTES;
      for (let i = 0; i < frames; i++) {
        const payload = (c >>> (i * 3)) % 40;
        bytes[position] = payload;
        bytes[position + 1] = 0;
        bytes[position + 2] = [0xc0, 0x80, 0x40, 0x00][(d >>> (i * 2)) & 3];
        bytes[position + 3] = 0;
        position += FrameLayout.FRAME_HEADER_BYTES;
        for (let k = 0; k < payload; k++) bytes[position + k] = (e + k) & 0xff;
        position += payload;
      }
      length = position;
    }
  }
  for (const mutation of spec.mutations) if (mutation.at < length) bytes[mutation.at] = mutation.value;
  if (spec.truncateTo !== null && spec.truncateTo < length) length = spec.truncateTo;
  return length;
}

function inject(simulation: Simulation, frames: FrameSpec[], token: { low: number; high: number }, offPath: boolean): void {
  const bytes = new Uint8Array(2048);
  for (const spec of frames) {
    const length = build(spec, simulation, token, bytes);
    // Off the path, DATA comes from elsewhere (spoofing the peer's address is being on the path, for DATA).
    const dataFromElsewhere = offPath && KINDS[spec.kind] === 'DATA';
    if (spec.toSender) simulation.sender.onControl(bytes, 0, length, simulation.nowNs);
    else simulation.receiver.onDatagram(bytes, 0, length, dataFromElsewhere ? '10.9.9.9' : PEER, PEER_PORT, simulation.nowNs);
    simulation.step();
  }
}

describe('fuzzing every frame type into a live session', () => {
  it('off the path: changes nothing (every message once, in order, no event but begin)', () => {
    fc.assert(
      fc.property(fc.array(frameSpec, { minLength: 1, maxLength: 40 }), fc.integer({ min: 0, max: 0xffff_ffff }), (frames, tokenWord) => {
        const simulation = new Simulation({ messageLengths: [64, 300, 3000] });
        simulation.run(200, () => simulation.delivered.length === 200);
        const wrong = { low: tokenWord === SESSION_TOKEN.low ? tokenWord ^ 1 : tokenWord, high: SESSION_TOKEN.high };
        inject(simulation, frames, wrong, true);
        simulation.run(600, () => simulation.delivered.length === 600 && simulation.sender.caughtUp, 50_000);
        expect(simulation.deliveredInOrder(600)).toBe(true);
        expect(simulation.corrupted).toBe(0);
        expect(simulation.events.map((event) => event.type)).toEqual(['begin']);
      }),
      { numRuns: 150, seed: 4242 },
    );
  });

  it('on the path (the token known): never throws or hangs; a session ends only by a documented event', () => {
    fc.assert(
      fc.property(fc.array(frameSpec, { minLength: 1, maxLength: 40 }), (frames) => {
        const simulation = new Simulation({ messageLengths: [64, 300, 3000], receiver: { onGap: 'skip', maxNakRounds: 8 } });
        simulation.run(200, () => simulation.delivered.length === 200);
        inject(simulation, frames, SESSION_TOKEN, false);
        // Bounded: the publisher keeps publishing; either everything gets through, or the session ended by an event.
        let steps = 0;
        while (steps++ < 50_000) {
          simulation.publishUpTo(600);
          const ended = simulation.events.some((event) => event.type !== 'begin' && event.type !== 'gap');
          const through = simulation.published === 600 && simulation.sender.caughtUp;
          if (ended || through || simulation.sender.state !== 'connected') break;
          simulation.step();
        }
        expect(steps).toBeLessThan(50_000);
        for (const event of simulation.events) expect(DOCUMENTED_EVENTS.has(event.type)).toBe(true);
        // Delivery never repeats or reorders what the real sender sent (forged DATA may add messages of its own).
        const real = simulation.delivered.filter((index) => index < 600);
        for (let i = 1; i < real.length; i++) expect(real[i]).not.toBe(real[i - 1]);
      }),
      { numRuns: 150, seed: 4343 },
    );
  });
});
