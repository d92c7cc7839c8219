import { describe, expect, it } from 'vitest';
import { type Codec, jsonCodec, optionalCodec, utf8Codec } from './codec.js';
import { BACK_PRESSURED, NOT_CONNECTED } from './codes.js';
import { FluxRangeError, FluxTypeError } from './errors.js';
import { Ring } from './ring.js';

/** Every readable message, decoded with `codec` in place (as @flux/sdk's messages() does). */
function drainValues<T>(ring: Ring, consumerId: number, codec: Codec<T>): T[] {
  const values: T[] = [];
  ring.openConsumer(consumerId).poll((bytes, offset, length) => values.push(codec.decode(bytes.subarray(offset, offset + length))));
  return values;
}

function setup(maxMessageBytes = 32, producerMode: 'single' | 'multi' = 'single') {
  const ring = Ring.create({ capacity: 8, maxMessageBytes, producerMode });
  const consumerId = ring.addConsumer();
  return { ring, consumerId, producer: ring.createProducer() };
}

describe('codecs', () => {
  it('utf8Codec round-trips text, multi-byte included, and refuses bytes that are not UTF-8', () => {
    for (const text of ['', 'hello', 'héllo wörld', '日本語', '🎉 emoji']) {
      const encoded = utf8Codec.encode(text);
      expect(utf8Codec.decode(new TextEncoder().encode(encoded as string))).toBe(text);
    }
    expect(() => utf8Codec.decode(new Uint8Array([0xff, 0xfe]))).toThrow(TypeError);
    expect(() => utf8Codec.encode(42 as never)).toThrow(FluxTypeError);
    expect(() => utf8Codec.encode(42 as never)).toThrow(/utf8Codec encodes strings, got 42/);
  });

  it('jsonCodec round-trips values and names what has no JSON form', () => {
    const codec = jsonCodec<{ id: number; tags: string[] }>();
    const value = { id: 7, tags: ['a', 'ü'] };
    expect(codec.decode(new TextEncoder().encode(codec.encode(value) as string))).toEqual(value);
    expect(() => codec.encode(undefined as never)).toThrow(/value has no JSON form, got undefined/);
    const bigint = (() => {
      try {
        jsonCodec().encode({ n: 1n });
      } catch (error) {
        return error;
      }
    })() as FluxTypeError;
    expect(bigint).toBeInstanceOf(FluxTypeError);
    expect(bigint.message).toMatch(/value has no JSON form: .*BigInt/);
    expect(bigint.cause).toBeInstanceOf(TypeError);
    expect(() => codec.decode(new TextEncoder().encode('{"id":'))).toThrow(SyntaxError);
  });

  it('optionalCodec takes undefined or an object with encode and decode, naming anything else', () => {
    expect(optionalCodec('codec', undefined)).toBeUndefined();
    expect(optionalCodec('codec', utf8Codec)).toBe(utf8Codec);
    for (const bad of [null, 1, 'json', {}, { encode() {} }, { decode() {} }, () => {}]) {
      expect(() => optionalCodec('codec', bad as never)).toThrow(FluxTypeError);
      expect(() => optionalCodec('codec', bad as never)).toThrow(
        /codec must be a codec \(an object with encode\(value\) and decode\(bytes\) functions\), got /,
      );
    }
  });

  for (const mode of ['single', 'multi'] as const) {
    describe(`producer.offerValue (${mode} producer)`, () => {
      it('writes a string result as UTF-8 straight into the slot, and bytes as offer() does', () => {
        const { ring, consumerId, producer } = setup(32, mode);
        const codec = jsonCodec<{ n: number; s: string }>();
        expect(producer.offerValue({ n: 1, s: 'é' }, codec)).toBe(0);
        const bytes: Codec<Uint8Array> = { encode: (value) => value, decode: (view) => view.slice() };
        expect(producer.offerValue(new Uint8Array([1, 2, 3]), bytes)).toBe(1);
        expect(producer.offerValue('日本', utf8Codec)).toBe(2);
        const consumer = ring.openConsumer(consumerId);
        const seen: Uint8Array[] = [];
        consumer.poll((view, offset, length) => seen.push(view.slice(offset, offset + length)));
        expect(new TextDecoder().decode(seen[0])).toBe('{"n":1,"s":"é"}');
        expect([...seen[1]]).toEqual([1, 2, 3]);
        expect(new TextDecoder().decode(seen[2])).toBe('日本');
        expect(seen[2].length).toBe(6);
      });

      it('refuses a message longer than maxMessageBytes in UTF-8, publishing nothing, and goes on', () => {
        const { ring, consumerId, producer } = setup(8, mode);
        // 9 ASCII bytes: refused before any claim; 3 x 3-byte characters = 9 bytes: refused after the claim, which is aborted.
        expect(() => producer.offerValue('123456789', utf8Codec)).toThrow(FluxRangeError);
        expect(() => producer.offerValue('日本語', utf8Codec)).toThrow(/message is 9 bytes in UTF-8, longer than maxMessageBytes \(8\)/);
        // Exactly 8 bytes fits: 2 x 3 + 2 ASCII.
        const sequence = producer.offerValue('日本ab', utf8Codec);
        expect(sequence).toBeGreaterThanOrEqual(0);
        expect(drainValues(ring, consumerId, utf8Codec)).toEqual(['日本ab']);
      });

      it('passes what encode throws to the caller and claims nothing; a result that is not bytes or a string is named', () => {
        const { ring, consumerId, producer } = setup(32, mode);
        const failing: Codec<number> = {
          encode() {
            throw new Error('cannot encode');
          },
          decode: () => 0,
        };
        expect(() => producer.offerValue(1, failing)).toThrow('cannot encode');
        const wrong = { encode: () => 42, decode: () => 0 } as unknown as Codec<number>;
        expect(() => producer.offerValue(1, wrong)).toThrow(FluxTypeError);
        expect(() => producer.offerValue(1, wrong)).toThrow(/codec.encode must return a Uint8Array or a string, got 42/);
        expect(producer.offerValue('next', utf8Codec)).toBe(0); // the failures took no sequence
        expect(drainValues(ring, consumerId, utf8Codec)).toEqual(['next']);
      });

      it('returns BACK_PRESSURED on a full ring and NOT_CONNECTED without a consumer, writing nothing', () => {
        const { ring, consumerId, producer } = setup(32, mode);
        for (let i = 0; i < 8; i++) expect(producer.offerValue(`m${i}`, utf8Codec)).toBe(i);
        expect(producer.offerValue('one too many', utf8Codec)).toBe(BACK_PRESSURED);
        expect(drainValues(ring, consumerId, utf8Codec)).toEqual(['m0', 'm1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7']);
        const lonely = Ring.create({ capacity: 8, maxMessageBytes: 8, producerMode: mode });
        expect(lonely.createProducer().offerValue('x', utf8Codec)).toBe(NOT_CONNECTED);
      });
    });
  }
});
