/**
 * Whole sessions on a virtual clock (simulation.ts): sender and receiver protocol logic
 * joined by seeded chaos links. Every run is deterministic and takes no real time.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_SETUP_INTERVAL_MS } from '../src/defaults.js';
import { MS, Simulation, type SimulationOptions } from './simulation.js';

function deliverAll(options: SimulationOptions, count: number): Simulation {
  const simulation = new Simulation(options);
  simulation.run(count, () => simulation.delivered.length >= count && simulation.sender.caughtUp);
  // A few more steps: nothing more may arrive (no duplicate delivered late).
  for (let i = 0; i < 200; i++) simulation.step();
  return simulation;
}

describe('a reliable session', () => {
  it('delivers every message once, in order, with no NAK when nothing is lost', () => {
    const simulation = deliverAll({}, 20_000);
    expect(simulation.deliveredInOrder(20_000)).toBe(true);
    expect(simulation.corrupted).toBe(0);
    expect(simulation.receiverCounters.naksSent).toBe(0);
    expect(simulation.senderCounters.retransmits).toBe(0);
    expect(simulation.sender.state).toBe('connected');
    expect(simulation.events.map((event) => event.type)).toEqual(['begin']);
  });

  it('repairs 5% random loss in both directions', () => {
    const simulation = deliverAll({ forward: { lossPercent: 5 }, backward: { lossPercent: 5 } }, 20_000);
    expect(simulation.deliveredInOrder(20_000)).toBe(true);
    expect(simulation.forward.counters.lost).toBeGreaterThan(0);
    expect(simulation.receiverCounters.naksSent).toBeGreaterThan(0);
    expect(simulation.senderCounters.retransmits).toBeGreaterThan(0);
    expect(simulation.windowOverruns).toBe(0);
  });

  const chaos: [string, Omit<SimulationOptions, 'seed'>][] = [
    ['bursts of loss', { forward: { burstStartPercent: 1, burstLength: 20 } }],
    ['duplication', { forward: { duplicatePercent: 20 }, backward: { duplicatePercent: 20 } }],
    ['reordering', { forward: { reorderPercent: 20, reorderDelayNs: 300_000 } }],
    ['delay and jitter', { forward: { delayNs: 2 * MS, jitterNs: 1 * MS }, backward: { delayNs: 2 * MS, jitterNs: 1 * MS } }],
    ['corruption', { forward: { corruptPercent: 5 }, backward: { corruptPercent: 5 } }],
    [
      'everything at once',
      {
        forward: {
          lossPercent: 5,
          burstStartPercent: 0.5,
          burstLength: 8,
          duplicatePercent: 5,
          reorderPercent: 5,
          reorderDelayNs: 200_000,
          delayNs: 500_000,
          jitterNs: 200_000,
          corruptPercent: 2,
        },
        backward: { lossPercent: 5, duplicatePercent: 5, reorderPercent: 5, reorderDelayNs: 200_000, delayNs: 500_000, corruptPercent: 2 },
      },
    ],
  ];
  for (const [name, options] of chaos) {
    for (const seed of [1, 2, 3]) {
      it(`delivers every message exactly once in order through ${name} (seed ${seed})`, () => {
        const simulation = deliverAll({ ...options, seed, messageLengths: [64, 64, 300, 64, 3000, 64] }, 5_000);
        expect(simulation.deliveredInOrder(5_000)).toBe(true);
        expect(simulation.corrupted).toBe(0);
        expect(simulation.windowOverruns).toBe(0);
        expect(simulation.events.map((event) => event.type)).toEqual(['begin']);
      });
    }
  }

  it('counts and drops corrupted datagrams', () => {
    const simulation = deliverAll({ forward: { corruptPercent: 10 }, backward: { corruptPercent: 10 } }, 5_000);
    expect(simulation.deliveredInOrder(5_000)).toBe(true);
    expect(simulation.receiverCounters.malformed + simulation.messageCounters.dropped).toBeGreaterThan(0);
    expect(simulation.senderCounters.malformedControl).toBeGreaterThan(0);
  });

  it('finds a lost last datagram through heartbeats (tail loss)', () => {
    const simulation = new Simulation({});
    simulation.run(100, () => simulation.delivered.length === 100);
    simulation.forwardCut = true;
    simulation.publishUpTo(101);
    for (let i = 0; i < 5 && simulation.sender.unpacked() > 0; i++) simulation.step(); // message 100 goes out, and is lost
    expect(simulation.sender.unpacked()).toBe(0);
    simulation.forwardCut = false;
    simulation.run(101, () => simulation.delivered.length === 101, 10_000);
    expect(simulation.deliveredInOrder(101)).toBe(true);
    expect(simulation.receiverCounters.naksSent).toBeGreaterThan(0);
    expect(simulation.senderCounters.heartbeatsSent).toBeGreaterThan(0);
  });

  it('never runs more than the window ahead of the receiver, and back-pressures the ring', () => {
    const simulation = new Simulation({ receiver: { windowBytes: 8192 }, ringCapacity: 256 });
    simulation.run(50, () => simulation.delivered.length === 50);
    simulation.backwardCut = true; // no STATUS comes back: the window never opens further
    for (let i = 0; i < 2_000; i++) {
      simulation.publishUpTo(100_000);
      simulation.step();
    }
    expect(simulation.windowOverruns).toBe(0);
    expect(simulation.published).toBeLessThan(50 + 8192 / 64 + 256 + 1); // the ring filled and refused claims
    expect(simulation.senderCounters.flowControlStalls).toBeGreaterThan(0);
    simulation.backwardCut = false;
    simulation.run(3_000, () => simulation.delivered.length === 3_000);
    expect(simulation.deliveredInOrder(3_000)).toBe(true);
  });

  it('holds the sender back while delivery is paused, then delivers everything once, in order, on resume', () => {
    const simulation = new Simulation({ receiver: { windowBytes: 8192 }, ringCapacity: 256 });
    simulation.run(50, () => simulation.delivered.length === 50);
    simulation.receiver.pause(); // an iterator's FIFO is full
    for (let i = 0; i < 2_000; i++) {
      simulation.publishUpTo(100_000);
      simulation.step();
    }
    expect(simulation.delivered.length).toBe(50); // nothing delivered while paused
    expect(simulation.receiverCounters.heldWhilePaused).toBeGreaterThan(0);
    expect(simulation.windowOverruns).toBe(0);
    expect(simulation.senderCounters.flowControlStalls).toBeGreaterThan(0); // STATUS stopped advancing
    expect(simulation.published).toBeLessThan(50 + 8192 / 64 + 256 + 1);
    simulation.receiver.resume();
    simulation.run(3_000, () => simulation.delivered.length === 3_000);
    expect(simulation.deliveredInOrder(3_000)).toBe(true);
    expect(simulation.corrupted).toBe(0);
  });

  it('loses nothing across many pauses and resumes under 5% loss each way', () => {
    const simulation = new Simulation({ receiver: { windowBytes: 16_384 }, forward: { lossPercent: 5 }, backward: { lossPercent: 5 }, seed: 7 });
    let sinceResume = 0;
    for (let round = 0; round < 400 && simulation.delivered.length < 5_000; round++) {
      simulation.publishUpTo(5_000);
      simulation.step();
      if (round % 7 === 0) simulation.receiver.pause();
      else if (simulation.receiver.isPaused && ++sinceResume % 3 === 0) simulation.receiver.resume();
    }
    simulation.receiver.resume();
    simulation.run(5_000, () => simulation.delivered.length === 5_000);
    expect(simulation.deliveredInOrder(5_000)).toBe(true);
    expect(simulation.corrupted).toBe(0);
    expect(simulation.windowOverruns).toBe(0);
  });

  it('sends nothing but SETUP until the receiver answers', () => {
    const simulation = new Simulation({});
    simulation.backwardCut = true;
    // Unanswered for three and a half setup intervals (the clock moves 10 µs a step while messages wait).
    for (let i = 0; i < 50_000 && simulation.nowNs < 3.5 * DEFAULT_SETUP_INTERVAL_MS * MS; i++) {
      simulation.publishUpTo(10);
      simulation.step();
    }
    expect(simulation.nowNs).toBeGreaterThanOrEqual(3.5 * DEFAULT_SETUP_INTERVAL_MS * MS);
    expect(simulation.sender.state).toBe('setup');
    expect(simulation.senderCounters.datagramsSent).toBe(0);
    expect(simulation.senderCounters.setupsSent).toBeGreaterThan(1);
    simulation.backwardCut = false;
    simulation.run(10, () => simulation.delivered.length === 10);
    expect(simulation.deliveredInOrder(10)).toBe(true);
  });

  it('ends cleanly: the receiver sees end once everything is delivered, and the sender is ended', () => {
    const simulation = new Simulation({ forward: { lossPercent: 10 }, backward: { lossPercent: 10 } });
    simulation.run(1_000, () => simulation.delivered.length === 1_000);
    simulation.sender.end(simulation.nowNs);
    for (let i = 0; i < 10_000 && simulation.sender.state !== 'ended'; i++) simulation.step();
    expect(simulation.sender.state).toBe('ended');
    expect(simulation.events.map((event) => event.type)).toEqual(['begin', 'end']);
    expect(simulation.deliveredInOrder(1_000)).toBe(true);
  });

  it('is not ended by a STATUS that only says "caught up": the receiver must have seen the end (a lost END is sent again)', () => {
    // Both ways take milliseconds: when the stream ends, STATUS frames (answers to earlier heartbeats) are on the way.
    const simulation = new Simulation({ forward: { delayNs: 1 * MS }, backward: { delayNs: 2 * MS } });
    simulation.run(1_000, () => simulation.delivered.length === 1_000 && simulation.sender.caughtUp);
    for (let i = 0; i < 100; i++) simulation.step(); // idle heartbeats, each answered by a STATUS
    simulation.forwardCut = true; // the END heartbeat is lost on the way
    simulation.sender.end(simulation.nowNs);
    const before = simulation.senderCounters.statusReceived;
    // Those STATUS say "caught up", as before the end: none of them may end the session.
    for (let i = 0; i < 2_000 && simulation.senderCounters.statusReceived < before + 1; i++) simulation.step();
    expect(simulation.senderCounters.statusReceived).toBeGreaterThan(before);
    expect(simulation.sender.state).toBe('ending');
    simulation.forwardCut = false;
    for (let i = 0; i < 10_000 && simulation.sender.state !== 'ended'; i++) simulation.step();
    expect(simulation.sender.state).toBe('ended');
    expect(simulation.events.map((event) => event.type)).toEqual(['begin', 'end']);
  });

  it('times out a silent sender on the receiver, and a silent receiver on the sender', () => {
    const simulation = new Simulation({ sender: { timing: { livenessTimeoutNs: 200 * MS } }, receiver: { timing: { livenessTimeoutNs: 300 * MS } } });
    simulation.run(10, () => simulation.delivered.length === 10);
    simulation.forwardCut = true;
    simulation.backwardCut = true;
    for (let i = 0; i < 1_000 && (simulation.sender.state !== 'timedOut' || simulation.receiver.sessionCount > 0); i++) simulation.step();
    expect(simulation.sender.state).toBe('timedOut');
    expect(simulation.events.map((event) => event.type)).toEqual(['begin', 'timeout']);
    expect(simulation.nowNs).toBeGreaterThan(300 * MS);
  });

  it('measures the round trip and reports it to the sender', () => {
    const simulation = new Simulation({ forward: { delayNs: 3 * MS }, backward: { delayNs: 2 * MS } });
    simulation.run(10, () => simulation.delivered.length === 10);
    for (let i = 0; i < 2_000 && simulation.sender.rttNs === 0; i++) simulation.step();
    expect(simulation.receiverCounters.rttSamples).toBeGreaterThan(0);
    expect(simulation.sender.rttNs).toBeGreaterThanOrEqual(5 * MS);
    expect(simulation.sender.rttNs).toBeLessThan(6 * MS);
  });
});

describe('forward error correction', () => {
  it('rebuilds one lost datagram per group without a NAK or a retransmission', () => {
    // Groups of 4 new DATA datagrams; the 3rd of every other group is lost (never the first
    // group: the receiver starts remembering datagrams at the first PARITY).
    const simulation = deliverAll({ sender: { fecGroupDatagrams: 4 }, messageBytes: 1000, dropNewData: (n) => n >= 8 && n % 8 === 2 }, 2_000);
    expect(simulation.deliveredInOrder(2_000)).toBe(true);
    expect(simulation.corrupted).toBe(0);
    const lost = Math.floor((simulation.senderCounters.datagramsSent - 3) / 8);
    expect(lost).toBeGreaterThan(200);
    expect(simulation.receiverCounters.fecRecoveries).toBe(lost);
    expect(simulation.receiverCounters.naksSent).toBe(0);
    expect(simulation.senderCounters.retransmits).toBe(0);
    expect(simulation.senderCounters.paritySent).toBeGreaterThanOrEqual(simulation.senderCounters.datagramsSent / 4);
  });

  it('leaves two losses in one group to NAKs', () => {
    const simulation = deliverAll({ sender: { fecGroupDatagrams: 4 }, messageBytes: 1000, dropNewData: (n) => n >= 8 && n % 8 <= 1 }, 2_000);
    expect(simulation.deliveredInOrder(2_000)).toBe(true);
    expect(simulation.receiverCounters.fecRecoveries).toBe(0);
    expect(simulation.senderCounters.retransmits).toBeGreaterThan(200);
  });

  it('repairs a lost last datagram from the parity an idle sender sends before its heartbeat', () => {
    const simulation = new Simulation({ sender: { fecGroupDatagrams: 8 }, messageBytes: 1000, dropNewData: (n) => n === 10 });
    simulation.run(8, () => simulation.delivered.length === 8); // one datagram each: a whole group, whose parity starts the history
    simulation.run(11, () => simulation.delivered.length === 11); // 3 more, the last lost: only the tail's parity tells
    expect(simulation.deliveredInOrder(11)).toBe(true);
    expect(simulation.receiverCounters.fecRecoveries).toBe(1);
    expect(simulation.receiverCounters.naksSent).toBe(0);
    expect(simulation.senderCounters.retransmits).toBe(0);
  });

  for (const seed of [1, 2, 3]) {
    it(`delivers every message exactly once in order through everything at once, with FEC (seed ${seed})`, () => {
      const impaired = {
        lossPercent: 5,
        duplicatePercent: 5,
        reorderPercent: 5,
        reorderDelayNs: 200_000,
        delayNs: 500_000,
        jitterNs: 200_000,
        corruptPercent: 2,
      };
      // A 256 KiB window, not the default 1 MiB: the FEC history is 64 datagrams, and with the
      // default window a burst is so long that 200 µs of jitter carries a group's PARITY past
      // the history of its members (no recovery in any of these seeds).
      const receiver = { windowBytes: 256 * 1024 };
      const simulation = deliverAll(
        { seed, sender: { fecGroupDatagrams: 8 }, receiver, forward: impaired, backward: impaired, messageLengths: [64, 64, 300, 64, 3000, 64] },
        5_000,
      );
      expect(simulation.deliveredInOrder(5_000)).toBe(true);
      expect(simulation.corrupted).toBe(0);
      expect(simulation.windowOverruns).toBe(0);
      expect(simulation.receiverCounters.fecRecoveries).toBeGreaterThan(0);
    });
  }
});

describe('a gap the sender can no longer fill', () => {
  // 'overwrite' with a tiny retransmit buffer: under heavy loss, NAKed data is gone.
  const lossy = (onGap: 'fail' | 'skip', seed: number): SimulationOptions => ({
    seed,
    sender: { retransmitPolicy: 'overwrite', retransmitBufferDatagrams: 4 },
    receiver: { onGap },
    forward: { lossPercent: 30, delayNs: 1 * MS },
    messageBytes: 1000, // one message per datagram
  });

  it("is skipped with a 'gap' event under onGap 'skip': the rest arrives in order, and only the gaps are missing", () => {
    const simulation = new Simulation(lossy('skip', 4));
    simulation.run(2_000, () => simulation.published === 2_000 && simulation.sender.caughtUp && simulation.sender.unpacked() === 0);
    const gaps = simulation.events.filter((event) => event.type === 'gap');
    expect(gaps.length).toBeGreaterThan(0);
    expect(simulation.receiverCounters.gaps).toBe(gaps.length);
    const skipped = gaps.reduce((sum, event) => sum + ((event.toSequence - event.fromSequence) >>> 0), 0);
    expect(simulation.receiverCounters.framesSkipped).toBe(skipped);
    // Strictly increasing (in order, no duplicate), and every message is delivered or skipped.
    for (let i = 1; i < simulation.delivered.length; i++) expect(simulation.delivered[i]).toBeGreaterThan(simulation.delivered[i - 1]);
    expect(simulation.delivered.length + skipped).toBe(2_000);
    expect(simulation.corrupted).toBe(0);
  });

  it("ends the session with a 'failed' event under onGap 'fail', never a silent hang", () => {
    const simulation = new Simulation(lossy('fail', 4));
    for (let i = 0; i < 50_000 && !simulation.events.some((event) => event.type === 'failed'); i++) {
      simulation.publishUpTo(2_000);
      simulation.step();
    }
    const failed = simulation.events.find((event) => event.type === 'failed');
    expect(failed).toBeDefined();
    expect(simulation.receiver.sessionCount).toBe(0);
    for (let i = 1; i < simulation.delivered.length; i++) expect(simulation.delivered[i]).toBe(simulation.delivered[i - 1] + 1);
  });

  it("never happens under the 'back-pressure' policy, however small the buffer", () => {
    const simulation = deliverAll({ sender: { retransmitBufferDatagrams: 4 }, forward: { lossPercent: 30, delayNs: 1 * MS }, messageBytes: 1000 }, 2_000);
    expect(simulation.deliveredInOrder(2_000)).toBe(true);
    expect(simulation.senderCounters.unavailableSent).toBe(0);
  });
});

describe('congestion control in a session', () => {
  it("keeps the congestion window under the receiver's: never past it, and not grown while the receiver limits", () => {
    const windowBytes = 64 * 1024;
    const simulation = deliverAll({ receiver: { windowBytes } }, 20_000);
    expect(simulation.deliveredInOrder(20_000)).toBe(true);
    expect(simulation.windowOverruns).toBe(0);
    // Grown only while it limited sending (at least half of it in use, RFC 7661): about twice
    // the receiver's window at most, where growing on every STATUS would have reached the ~1.4 MB sent.
    expect(simulation.sender.congestionWindowBytes).toBeLessThan(2.5 * windowBytes);
    expect(simulation.senderCounters.congestionEvents).toBe(0);
  });

  it('shrinks once for a burst of losses within one round trip, and repairs them', () => {
    // 30 datagrams in a row: past the 2% of the 1,000-datagram sample (loss-rate.ts), as a queue overflowing is.
    const simulation = deliverAll({ dropNewData: (n) => n >= 40 && n < 70, forward: { delayNs: 2 * MS }, backward: { delayNs: 2 * MS } }, 5_000);
    expect(simulation.deliveredInOrder(5_000)).toBe(true);
    expect(simulation.senderCounters.naksReceived).toBeGreaterThan(0);
    expect(simulation.senderCounters.congestionEvents).toBe(1);
  });

  it("under 'static' has no congestion window, pacing or events: only the receiver's window", () => {
    const simulation = deliverAll({ sender: { congestionControl: 'static' }, forward: { lossPercent: 5 }, backward: { lossPercent: 5 } }, 5_000);
    expect(simulation.deliveredInOrder(5_000)).toBe(true);
    expect(simulation.sender.congestionWindowBytes).toBe(Number.POSITIVE_INFINITY);
    expect(simulation.senderCounters.congestionWindowBytes).toBe(0);
    expect(simulation.senderCounters.congestionEvents).toBe(0);
    expect(simulation.senderCounters.pacingDelays).toBe(0);
  });

  it("under 'cubic' (the default) answers 5% loss by shrinking, and the counters say so", () => {
    const simulation = deliverAll({ forward: { lossPercent: 5 }, backward: { lossPercent: 5 } }, 100_000);
    expect(simulation.deliveredInOrder(100_000)).toBe(true);
    const counters = simulation.senderCounters;
    expect(counters.congestionEvents).toBeGreaterThan(0);
    expect(counters.congestionEvents).toBeLessThanOrEqual(counters.naksReceived);
    expect(counters.congestionWindowBytes).toBeGreaterThan(0);
    expect(counters.pacingBytesPerSecond).toBeGreaterThan(0);
  });

  it('keeps its window through 1% random loss (under the 2% threshold), and shrinks on it with congestionLossThreshold 0', () => {
    const lossy = deliverAll({ forward: { lossPercent: 1 } }, 100_000);
    expect(lossy.deliveredInOrder(100_000)).toBe(true);
    expect(lossy.senderCounters.retransmits).toBeGreaterThan(20);
    expect(lossy.senderCounters.congestionEvents).toBe(0);
    const classic = deliverAll({ forward: { lossPercent: 1 }, sender: { congestionLossThreshold: 0 } }, 100_000);
    expect(classic.deliveredInOrder(100_000)).toBe(true);
    expect(classic.senderCounters.congestionEvents).toBeGreaterThan(lossy.senderCounters.retransmits / 4);
  });
});
