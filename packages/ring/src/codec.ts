/**
 * Codecs: messages beyond bytes. A codec turns one value into the bytes of one message, and
 * one message's bytes back into a value. Every Flux transport carries bytes; a codec sits
 * at the two ends only:
 *
 *   offer side     value --encode--> Uint8Array | string --copied into the ring--> ... wire
 *                  (a string is copied as its UTF-8 bytes, encoded straight into the slot or
 *                   a scratch buffer: JSON.stringify's result is never turned into a Buffer)
 *   receive side   bytes in place (a view, valid only during the call) --decode--> value
 *
 * Where a codec is taken:
 *
 *   producer.offerValue(value, codec)                    a ring producer (@flux/ring)
 *   Publication.open({ ..., codec }) -> offer(value: T)  @flux/udp, @flux/reliable (hot too)
 *   subscription.messages(streamId, { codec })           yields { value: T, sessionId, streamId }
 *   messages(consumer, { codec })                        @flux/sdk, a ring consumer: yields T
 *
 * `decode` is handed a view of memory Flux reuses (a ring slot, a receive buffer): it must
 * copy what it keeps (JSON.parse, msgpackr's unpack and protobuf decoders all do). Decoding
 * in place is what saves the copy a bytes iterator makes.
 *
 * A codec that throws: on the offer side the error goes to the caller of offer (nothing was
 * claimed); on a network subscription's receive side the message is dropped and counted
 * (`undecodable`) and the error goes to onError as a FluxHandlerError; on a ring the error
 * ends the iteration (the ring's messages are the application's own).
 *
 * The fast path stays bytes written in place (tryClaim / publish, onMessage / poll): a codec
 * costs an encode and one copy per message on the way in, a decode on the way out.
 */
import { FluxTypeError } from './errors.js';
import { describe } from './validate.js';

export interface Codec<T> {
  /** One message's bytes, or a string sent as its UTF-8 bytes. A reused buffer is fine: it is copied at once. */
  encode(value: T): Uint8Array | string;
  /** The value of one message. `bytes` is valid only during the call: copy what you keep. */
  decode(bytes: Uint8Array): T;
}

const textDecoder = new TextDecoder('utf-8', { fatal: true });

/**
 * UTF-8 text. Decoding is strict: bytes that are not UTF-8 throw (a counted drop on a
 * network subscription), never a string with U+FFFD in it.
 */
export const utf8Codec: Codec<string> = Object.freeze({
  encode(value: string): string {
    if (typeof value !== 'string') throw new FluxTypeError(`utf8Codec encodes strings, got ${describe(value)}`);
    return value;
  },
  decode(bytes: Uint8Array): string {
    return textDecoder.decode(bytes);
  },
});

/**
 * JSON as UTF-8 text: `JSON.stringify` out, `JSON.parse` in (strict UTF-8). A value with no
 * JSON form (undefined, a function, a symbol) throws a FluxTypeError naming it, as does one
 * JSON.stringify refuses (a BigInt, a cycle: `cause`). `T` is what the application asserts it
 * sends: JSON.parse checks syntax, not shape; validate the decoded value where it matters.
 */
export function jsonCodec<T = unknown>(): Codec<T> {
  return Object.freeze({
    encode(value: T): string {
      let text: string | undefined;
      try {
        text = JSON.stringify(value);
      } catch (error) {
        throw new FluxTypeError(`value has no JSON form: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
      }
      if (text === undefined) throw new FluxTypeError(`value has no JSON form, got ${describe(value)}`);
      return text;
    },
    decode(bytes: Uint8Array): T {
      return JSON.parse(textDecoder.decode(bytes)) as T;
    },
  });
}

/** `codec` as an option: undefined, or an object with encode and decode functions (a FluxTypeError naming it otherwise). */
export function optionalCodec<T>(name: string, codec: Codec<T> | undefined): Codec<T> | undefined {
  if (codec === undefined) return undefined;
  const c = codec as Partial<Codec<T>> | null;
  if (c === null || typeof c !== 'object' || typeof c.encode !== 'function' || typeof c.decode !== 'function') {
    throw new FluxTypeError(`${name} must be a codec (an object with encode(value) and decode(bytes) functions), got ${describe(codec)}`);
  }
  return codec;
}

/** What encode returned, checked: a Uint8Array or a string (a FluxTypeError naming it otherwise). */
export function checkEncoded(encoded: unknown): Uint8Array | string {
  if (typeof encoded === 'string' || encoded instanceof Uint8Array) return encoded;
  // A Uint8Array from another realm (a vm context) fails instanceof; its toStringTag still says what it is.
  if (ArrayBuffer.isView(encoded) && Object.prototype.toString.call(encoded) === '[object Uint8Array]') return encoded as Uint8Array;
  throw new FluxTypeError(`codec.encode must return a Uint8Array or a string, got ${describe(encoded)}`);
}
