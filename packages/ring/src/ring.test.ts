import { describe, expect, it } from 'vitest';
import { LAYOUT_VERSION, LAYOUT_VERSION_INDEX, MAGIC_INDEX } from './layout.js';
import { Ring } from './ring.js';
import { SharedMemoryUnavailableError } from './shared-memory.js';

describe('Ring.create', () => {
  it.each([
    [{ capacity: 3, maxMessageBytes: 8 }, RangeError, /power of two, got 3/],
    [{ capacity: 0, maxMessageBytes: 8 }, RangeError, /capacity must be an integer from 2 to \d+, got 0/],
    [{ capacity: 2 ** 30, maxMessageBytes: 8 }, RangeError, /got 1073741824/],
    [{ capacity: 1.5, maxMessageBytes: 8 }, TypeError, /capacity must be an integer, got 1.5/],
    [{ capacity: '8', maxMessageBytes: 8 }, TypeError, /got "8"/],
    [{ capacity: 8, maxMessageBytes: -1 }, RangeError, /maxMessageBytes .* got -1/],
    [{ capacity: 8, maxMessageBytes: 8, maxConsumers: 33 }, RangeError, /maxConsumers .* got 33/],
    [{ capacity: 8, maxMessageBytes: 8, producerMode: 'many' }, TypeError, /producerMode .* got "many"/],
    [{ capacity: 2 ** 28, maxMessageBytes: 64 }, RangeError, /needs \d+ bytes/],
  ])('rejects %j', (options, type, message) => {
    expect(() => Ring.create(options as never)).toThrow(type);
    expect(() => Ring.create(options as never)).toThrow(message);
  });

  it('rejects a missing options object', () => {
    expect(() => Ring.create(undefined as never)).toThrow(TypeError);
  });
});

describe('Ring.attach', () => {
  it('shares memory through a structured clone of the handle', () => {
    const ring = Ring.create({ capacity: 8, maxMessageBytes: 16 });
    const other = Ring.attach(structuredClone(ring.handle));
    const id = ring.addConsumer();
    const producer = other.createProducer();
    expect(producer.offer(new Uint8Array([1, 2, 3]))).toBe(0);
    const seen: number[][] = [];
    ring.openConsumer(id).poll((bytes, offset, length) => seen.push([...bytes.subarray(offset, offset + length)]));
    expect(seen).toEqual([[1, 2, 3]]);
    expect(other.capacity).toBe(8);
    expect(other.maxMessageBytes).toBe(16);
  });

  it('rejects a handle of another layout version, naming both versions', () => {
    const ring = Ring.create({ capacity: 8, maxMessageBytes: 16 });
    expect(() => Ring.attach({ ...ring.handle, layoutVersion: LAYOUT_VERSION + 1 })).toThrow(
      new RegExp(`layout version ${LAYOUT_VERSION + 1}; this @flux/ring reads layout version ${LAYOUT_VERSION}`),
    );
  });

  it('rejects a buffer whose header holds another layout version', () => {
    const ring = Ring.create({ capacity: 8, maxMessageBytes: 16 });
    ring.int32[LAYOUT_VERSION_INDEX] = LAYOUT_VERSION + 7;
    expect(() => Ring.attach(ring.handle)).toThrow(/buffer holds ring layout version/);
  });

  it('rejects things that are not ring handles', () => {
    expect(() => Ring.attach(null as never)).toThrow(TypeError);
    expect(() => Ring.attach({ kind: 'flux.ring', layoutVersion: LAYOUT_VERSION, buffer: new ArrayBuffer(1024) } as never)).toThrow(/SharedArrayBuffer/);
    const foreign = new SharedArrayBuffer(4096);
    expect(() => Ring.attach({ kind: 'flux.ring', layoutVersion: LAYOUT_VERSION, buffer: foreign })).toThrow(/not a Flux ring/);
    const ring = Ring.create({ capacity: 8, maxMessageBytes: 16 });
    const copy = new SharedArrayBuffer(ring.buffer.byteLength + 8);
    new Uint8Array(copy).set(ring.bytes);
    expect(new Int32Array(copy)[MAGIC_INDEX]).toBe(ring.int32[MAGIC_INDEX]);
    expect(() => Ring.attach({ kind: 'flux.ring', layoutVersion: LAYOUT_VERSION, buffer: copy })).toThrow(/does not match/);
  });
});

describe('consumer registry', () => {
  it('hands out every region once, then throws naming the limit', () => {
    const ring = Ring.create({ capacity: 8, maxMessageBytes: 8, maxConsumers: 2 });
    expect([ring.addConsumer(), ring.addConsumer()]).toEqual([0, 1]);
    expect(() => ring.addConsumer()).toThrow(/all 2 consumer regions/);
    expect(ring.removeConsumer(0)).toBe(true);
    expect(ring.removeConsumer(0)).toBe(false);
    expect(ring.addConsumer()).toBe(0);
    expect(ring.activeConsumers()).toEqual([0, 1]);
  });

  it('rejects bad consumer ids and dependencies', () => {
    const ring = Ring.create({ capacity: 8, maxMessageBytes: 8, maxConsumers: 4 });
    expect(() => ring.openConsumer(0)).toThrow(/consumer 0 is not active/);
    expect(() => ring.openConsumer(9)).toThrow(RangeError);
    expect(() => ring.addConsumer({ after: [2] })).toThrow(/consumer 2 is not active/);
    expect(() => ring.addConsumer({ after: [7] })).toThrow(/got 7/);
    expect(() => ring.removeConsumer(-1)).toThrow(RangeError);
  });
});

describe('a ring between processes, without @flux/uring loaded', () => {
  it('throws SharedMemoryUnavailableError saying what to load, and the thread ring still works', () => {
    expect(() => Ring.create({ name: 'no-provider', capacity: 8, maxMessageBytes: 8 })).toThrow(SharedMemoryUnavailableError);
    expect(() => Ring.open('no-provider')).toThrow(/import '@flux\/uring'/);
    expect(Ring.create({ capacity: 8, maxMessageBytes: 8 }).path).toBeUndefined();
  });
});
