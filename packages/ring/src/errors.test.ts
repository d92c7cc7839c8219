/** The error hierarchy: one `instanceof FluxError` for every class, the built-in kinds kept, codes. */
import { describe, expect, it } from 'vitest';
import { ConsumerRemovedError, FluxError, FluxInternalError, FluxRangeError, FluxTimeoutError, FluxTypeError, isFluxError } from './errors.js';
import { Ring } from './ring.js';

describe('FluxError', () => {
  it('recognises every Flux error class and keeps RangeError and TypeError for argument errors', () => {
    const range = new FluxRangeError('capacity must be a power of two, got 3');
    const type = new FluxTypeError('handler must be a function, got string');
    const removed = new ConsumerRemovedError(4);
    for (const error of [range, type, removed, new FluxTimeoutError('bind took longer than 5000 ms'), new FluxInternalError('x')]) {
      expect(error).toBeInstanceOf(FluxError);
      expect(error).toBeInstanceOf(Error);
      expect(isFluxError(error)).toBe(true);
      expect(error.code).toMatch(/^ERR_FLUX_[A-Z_]+$/);
      expect(error.stack).toContain(error.name);
    }
    expect(range).toBeInstanceOf(RangeError);
    expect(range.code).toBe('ERR_FLUX_OUT_OF_RANGE');
    expect(range.name).toBe('FluxRangeError');
    expect(type).toBeInstanceOf(TypeError);
    expect(type.code).toBe('ERR_FLUX_INVALID_TYPE');
    expect(removed.name).toBe('ConsumerRemovedError');
    expect(removed.consumerId).toBe(4);
    expect(new FluxInternalError('a slot could not be packed').message).toBe('a slot could not be packed (a bug: please report it)');
  });

  it('does not claim errors it did not make', () => {
    for (const value of [new Error('x'), new RangeError('x'), Object.assign(new Error('x'), { code: 'ERR_FLUX_TIMEOUT' }), null, undefined, 'ERR_FLUX', {}]) {
      expect(value instanceof FluxError).toBe(false);
      expect(isFluxError(value)).toBe(false);
    }
  });

  it('keeps subclasses apart: instanceof a subclass follows the prototype chain', () => {
    const removed = new ConsumerRemovedError(1);
    expect(removed).toBeInstanceOf(ConsumerRemovedError);
    expect(removed instanceof FluxTimeoutError).toBe(false);
    expect(new FluxRangeError('x') instanceof ConsumerRemovedError).toBe(false);
  });

  it('recognises an error branded by another copy of the package (a second version in node_modules)', () => {
    // What errors.ts in another copy does: the brand is registered with Symbol.for, so it is the same symbol.
    const foreign = new Error('from another copy');
    Object.defineProperty(foreign, Symbol.for('@flux/error'), { value: true });
    expect(foreign instanceof FluxError).toBe(true);
    expect(isFluxError(foreign)).toBe(true);
  });

  it('is what a removed consumer throws', () => {
    const ring = Ring.create({ capacity: 8, maxMessageBytes: 8 });
    const id = ring.addConsumer();
    const consumer = ring.openConsumer(id);
    ring.removeConsumer(id);
    let caught: unknown;
    try {
      consumer.poll(() => {});
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConsumerRemovedError);
    expect((caught as ConsumerRemovedError).code).toBe('ERR_FLUX_CONSUMER_REMOVED');
    expect((caught as ConsumerRemovedError).consumerId).toBe(id);
  });
});
