/**
 * Buffer lifetime: a frame sent in place is read by the kernel from its ring slot, so the
 * slot must not be released (and so not overwritten by a producer) before that send
 * completes. The publication's send path (either backend) is replaced by a recorder that
 * holds every completion until the test releases it, in any order.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { BACK_PRESSURED } from '@flux/ring';
import type { PooledDatagram } from '../src/datagram-pool.js';
import type { SendPath, SentHandler } from '../src/paths.js';
import { Publication } from '../src/publication.js';

interface Recorded {
  /** The views the kernel would read: the entry's bytes, then the in-place payload if any. */
  parts: Uint8Array[];
  complete: () => void;
}

const open: Publication[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((p) => p.close(0)));
});

async function recordingPublication(ringCapacity: number, maxMessageBytes: number) {
  // segmentOffload off: io_uring then sends long frames in place, as node:dgram does.
  const publication = await Publication.open({ host: '127.0.0.1', port: 9, streamId: 1, ringCapacity, maxMessageBytes, segmentOffload: false });
  open.push(publication);
  const recorded: Recorded[] = [];
  const internals = publication as unknown as { sendPath: SendPath; completed: SentHandler };
  const real = internals.sendPath;
  const ringBytes = publication.ring.bytes;
  internals.sendPath = {
    backend: real.backend,
    inPlaceMinBytes: real.inPlaceMinBytes,
    setRef: (ref: boolean) => real.setRef(ref),
    send: (datagram: PooledDatagram) => {
      const headBytes = datagram.lengthBytes - datagram.payloadBytes;
      const parts = [datagram.buffer.subarray(0, headBytes)];
      if (datagram.payloadBytes > 0) parts.push(ringBytes.subarray(datagram.payloadOffsetBytes, datagram.payloadOffsetBytes + datagram.payloadBytes));
      recorded.push({ parts, complete: () => internals.completed(datagram, true) });
    },
    submit: () => {},
    close: () => real.close(),
  };
  return { publication, recorded };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));
const HEADERS_BYTES = 16 + 4; // datagram header + one frame header

/** The frame payload of a recorded datagram: the slot view, or the copy after the headers. */
const payloadOf = (r: Recorded) => (r.parts.length === 2 ? r.parts[1] : r.parts[0].subarray(HEADERS_BYTES));

function message(index: number, length: number): Uint8Array {
  return Uint8Array.from({ length }, (_, b) => (index * 7 + b) & 0xff);
}

describe('slot lifetime for in-place sends', () => {
  it('holds every slot whose send is pending, and never changes the bytes being sent', async () => {
    const capacity = 8;
    const length = 1000; // >= 512: sent in place from the slot
    const { publication, recorded } = await recordingPublication(capacity, length);
    for (let i = 0; i < capacity; i++) expect(publication.offer(message(i, length))).toBeGreaterThanOrEqual(0);
    for (let round = 0; round < 5 && recorded.length < capacity; round++) await turn();
    expect(recorded.length).toBe(capacity);
    expect(recorded.every((r) => r.parts.length === 2 && r.parts[1].length === length)).toBe(true);
    // Every slot is held by a pending send: producers are back-pressured.
    expect(publication.offer(message(99, length))).toBe(BACK_PRESSURED);
    for (let round = 0; round < 3; round++) {
      await turn();
      expect(publication.offer(message(99, length))).toBe(BACK_PRESSURED);
    }
    // Completing sends frees exactly their slots, oldest first; the next message goes into
    // the freed slot while the others' bytes stay exactly as sent.
    recorded[0].complete();
    recorded[1].complete();
    expect(publication.offer(message(100, length))).toBeGreaterThanOrEqual(0);
    expect(publication.offer(message(101, length))).toBeGreaterThanOrEqual(0);
    expect(publication.offer(message(102, length))).toBe(BACK_PRESSURED);
    for (let i = 2; i < capacity; i++) expect([...recorded[i].parts[1]]).toEqual([...message(i, length)]);
    for (let round = 0; round < 5 && recorded.length < capacity + 2; round++) await turn();
    expect([...recorded[capacity].parts[1]]).toEqual([...message(100, length)]);
    expect([...recorded[capacity + 1].parts[1]]).toEqual([...message(101, length)]);
    for (const r of recorded.slice(2)) r.complete();
    expect(publication.counters.messagesSent).toBe(capacity + 2);
  });

  it('frees nothing when a later send completes first, then both at the oldest', async () => {
    const length = 1000;
    const { publication, recorded } = await recordingPublication(2, length);
    for (let i = 0; i < 2; i++) expect(publication.offer(message(i, length))).toBeGreaterThanOrEqual(0);
    for (let round = 0; round < 5 && recorded.length < 2; round++) await turn();
    expect(recorded.length).toBe(2);
    recorded[1].complete(); // io_uring reports in completion order, libuv can too
    expect(publication.offer(message(2, length))).toBe(BACK_PRESSURED);
    expect([...recorded[0].parts[1]]).toEqual([...message(0, length)]);
    recorded[0].complete();
    expect(publication.offer(message(2, length))).toBeGreaterThanOrEqual(0);
    expect(publication.offer(message(3, length))).toBeGreaterThanOrEqual(0);
    expect(publication.counters.messagesSent).toBe(2);
    for (let round = 0; round < 5 && recorded.length < 4; round++) await turn();
    for (const r of recorded.slice(2)) r.complete();
  });

  it('does not free pending slots when an aborted claim follows them', async () => {
    const length = 1000;
    const { publication, recorded } = await recordingPublication(4, length);
    for (let i = 0; i < 3; i++) expect(publication.offer(message(i, length))).toBeGreaterThanOrEqual(0);
    for (let round = 0; round < 5 && recorded.length < 3; round++) await turn();
    expect(recorded.length).toBe(3);
    const producer = publication.ring.createProducer();
    producer.abort(producer.tryClaim(1, 0), 1); // the fourth slot: published as skipped
    for (let round = 0; round < 5; round++) await turn();
    // Three sends still read their slots and the fourth is aborted: nothing is free yet.
    expect(publication.offer(message(9, length))).toBe(BACK_PRESSURED);
    for (let i = 0; i < 3; i++) expect([...payloadOf(recorded[i])]).toEqual([...message(i, length)]);
    for (const r of recorded) r.complete();
    expect(publication.offer(message(9, length))).toBeGreaterThanOrEqual(0);
  });

  it('holds a fragmented message slot until its last fragment is sent', async () => {
    const length = 3000; // fragments of 1,452, 1,452 (in place) and 96 bytes (copied)
    const { publication, recorded } = await recordingPublication(2, length);
    expect(publication.offer(message(1, length))).toBeGreaterThanOrEqual(0);
    expect(publication.offer(message(2, length))).toBeGreaterThanOrEqual(0);
    for (let round = 0; round < 5 && recorded.length < 6; round++) await turn();
    expect(recorded.length).toBe(6);
    recorded[0].complete();
    recorded[1].complete();
    expect(publication.offer(message(3, length))).toBe(BACK_PRESSURED); // message 1's last fragment is pending
    recorded[2].complete();
    expect(publication.offer(message(3, length))).toBeGreaterThanOrEqual(0);
    const sentBytes = recorded.slice(3, 6).flatMap((r) => [...payloadOf(r)]);
    expect(sentBytes).toEqual([...message(2, length)]);
    for (const r of recorded.slice(3)) r.complete();
  });
});
