/**
 * Write-order tests on a recording fake: `Atomics.store` is replaced by a spy that, at the
 * moment of each publishing or releasing store, records what the plain memory it
 * publishes already holds. A publish store that ran before the payload or length writes
 * (or a release before the handler ran) shows up as a wrong snapshot.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ABORTED_LENGTH, CONSUMER_SEQUENCE_FIELD, consumerFieldIndex, CURSOR_INDEX } from './layout.js';
import { Ring } from './ring.js';

afterEach(() => {
  vi.restoreAllMocks();
});

const realStore = Atomics.store;

function recordStores(onStore: (array: Int32Array, index: number, value: number) => void) {
  vi.spyOn(Atomics, 'store').mockImplementation(((array: Int32Array, index: number, value: number) => {
    onStore(array, index, value);
    return realStore(array, index, value);
  }) as typeof Atomics.store);
}

describe('write order', () => {
  it('single producer: offer writes length and payload before the cursor store', () => {
    const ring = Ring.create({ capacity: 8, maxMessageBytes: 4 });
    ring.addConsumer();
    const producer = ring.createProducer();
    const snapshots: { cursor: number; length: number; payload: number[] }[] = [];
    recordStores((array, index, value) => {
      if (array.buffer === ring.buffer && array.byteOffset === 0 && index === CURSOR_INDEX) {
        const offset = ring.offsetOf(value);
        snapshots.push({ cursor: value, length: ring.lengthOf(value), payload: [...ring.bytes.subarray(offset, offset + 4)] });
      }
    });
    producer.offer(Uint8Array.of(1, 2, 3));
    producer.offer(Uint8Array.of(4, 5, 6, 7));
    expect(snapshots).toEqual([
      { cursor: 0, length: 3, payload: [1, 2, 3, 0] },
      { cursor: 1, length: 4, payload: [4, 5, 6, 7] },
    ]);
  });

  it('multi producer: offer writes length and payload before the batch marker store', () => {
    const ring = Ring.create({ capacity: 8, maxMessageBytes: 4, producerMode: 'multi' });
    ring.addConsumer();
    const producer = ring.createProducer();
    const snapshots: { marker: number; length: number; payload: number[] }[] = [];
    recordStores((array, _index, value) => {
      if (array === ring.available) {
        const offset = ring.offsetOf(value);
        snapshots.push({ marker: value, length: ring.lengthOf(value), payload: [...ring.bytes.subarray(offset, offset + 2)] });
      }
    });
    producer.offer(Uint8Array.of(9, 8));
    expect(snapshots).toEqual([{ marker: 0, length: 2, payload: [9, 8] }]);
  });

  it('aborting an older claim marks its slots skipped before publishing them', () => {
    for (const producerMode of ['single', 'multi'] as const) {
      const ring = Ring.create({ capacity: 8, maxMessageBytes: 4, producerMode });
      ring.addConsumer();
      const producer = ring.createProducer();
      const older = producer.tryClaim(2, 4);
      producer.tryClaim(1, 4);
      const lengthsAtPublish: number[][] = [];
      recordStores((array) => {
        if (array.buffer === ring.buffer) lengthsAtPublish.push([ring.lengthOf(older), ring.lengthOf(older + 1)]);
      });
      producer.abort(older, 2);
      expect(lengthsAtPublish).toEqual([[ABORTED_LENGTH, ABORTED_LENGTH]]);
      vi.restoreAllMocks();
    }
  });

  it('consumer: releases a batch once, after its handler has seen every message', () => {
    const ring = Ring.create({ capacity: 8, maxMessageBytes: 4 });
    const id = ring.addConsumer();
    const consumer = ring.openConsumer(id);
    const producer = ring.createProducer();
    for (let i = 0; i < 3; i++) producer.offer(Uint8Array.of(i));
    let handled = 0;
    const releases: { released: number; handledBefore: number }[] = [];
    recordStores((array, index, value) => {
      if (array.buffer === ring.buffer && index === consumerFieldIndex(id, CONSUMER_SEQUENCE_FIELD)) {
        releases.push({ released: value, handledBefore: handled });
      }
    });
    consumer.poll(() => {
      handled++;
    });
    expect(releases).toEqual([{ released: 2, handledBefore: 3 }]);
  });
});
