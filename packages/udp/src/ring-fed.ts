/**
 * What every ring-fed publication shares (@flux/udp's Publication and @flux/reliable's
 * ReliablePublication): the resolution of its destination, stream, session, MTU and ring
 * options, and the copying offer() from the calling thread. One copy, so the two
 * publications check and default these options the same way.
 *
 *   producers (any thread) --claim/publish--> ring --the publication's sender--> socket
 *   offer() on this thread --> LocalOffer --> one producer of its own, made on first use
 */
import { BACK_PRESSURED, type Codec, FluxRangeError, NOT_CONNECTED, type Producer, type ProducerModeName, type Ring } from '@flux/ring';
import { optionalChoice, optionalCodec, optionalInteger, requireBytes, requireInteger, requireObject, requireString } from '@flux/ring/validate';
import { DEFAULT_RING_CAPACITY } from './defaults.js';
import { DEFAULT_MTU_BYTES, maxDatagramBytes, maxFramePayloadBytes } from './frame-layout.js';
import { checkBufferBytes, familyOf, type SocketOptions } from './socket.js';

/** Ring capacity bound (a power of two; @flux/ring's own limit is 2^29). */
const MAX_RING_CAPACITY = 2 ** 29;
/** Largest message a publication's ring takes (1 GiB). */
const MAX_MESSAGE_BYTES = 2 ** 30;
/** The MTU range a publication sizes its datagrams from (576: the IPv4 minimum every host takes). */
const MIN_MTU_BYTES = 576;
const MAX_MTU_BYTES = 65_535;

/**
 * The options every ring-fed publication takes. `T` is what offer() takes: bytes or a string
 * without a codec, the codec's values with one.
 */
export interface RingFedOptions<T = Uint8Array | string> extends SocketOptions {
  /** Destination host (an address or a name). */
  host: string;
  port: number;
  streamId: number;
  /** Default: random. */
  sessionId?: number;
  /** Default 1,500: datagrams are sized to fit one IP packet. */
  mtuBytes?: number;
  /** Largest message; default: what one datagram carries (longer ones are fragmented). */
  maxMessageBytes?: number;
  /** Ring slots, a power of two (default 4,096). */
  ringCapacity?: number;
  /** 'multi' (default: any thread may publish) or 'single'. */
  producerMode?: ProducerModeName;
  /**
   * Turns offer()'s values into message bytes (codec.ts in @flux/ring: jsonCodec(), utf8Codec,
   * or your own, e.g. msgpackr's pack/unpack). Without one, offer() takes bytes or a string.
   * Producers in other threads still claim and write bytes in place, or call
   * `producer.offerValue(value, codec)`.
   */
  codec?: Codec<T>;
}

export interface ResolvedRingFed {
  readonly host: string;
  readonly port: number;
  readonly streamId: number;
  readonly sessionId: number;
  readonly mtuBytes: number;
  readonly family: 'IPv4' | 'IPv6';
  /** UDP payload that fits one packet of mtuBytes. */
  readonly datagramBytes: number;
  readonly maxMessageBytes: number;
  readonly ringCapacity: number;
  readonly producerMode: ProducerModeName;
  readonly receiveBufferBytes: number | undefined;
  readonly sendBufferBytes: number | undefined;
  readonly codec: Codec<unknown> | undefined;
}

/** Checks and defaults the ring-fed options (a FluxTypeError / FluxRangeError naming the option). */
export function resolveRingFedOptions(options: RingFedOptions<unknown>): ResolvedRingFed {
  const o = requireObject('options', options);
  const host = requireString('host', o.host);
  const port = requireInteger('port', o.port, 1, 65535);
  const streamId = requireInteger('streamId', o.streamId, 0, 0xffff_ffff);
  const sessionId = optionalInteger('sessionId', o.sessionId, Math.floor(Math.random() * 0x1_0000_0000), 0, 0xffff_ffff);
  const mtuBytes = optionalInteger('mtuBytes', o.mtuBytes, DEFAULT_MTU_BYTES, MIN_MTU_BYTES, MAX_MTU_BYTES);
  const family = familyOf(host, o.family);
  const datagramBytes = maxDatagramBytes(mtuBytes, family);
  const ringCapacity = optionalInteger('ringCapacity', o.ringCapacity, DEFAULT_RING_CAPACITY, 2, MAX_RING_CAPACITY);
  if ((ringCapacity & (ringCapacity - 1)) !== 0) throw new FluxRangeError(`ringCapacity must be a power of two, got ${ringCapacity}`);
  checkBufferBytes('receiveBufferBytes', o.receiveBufferBytes);
  checkBufferBytes('sendBufferBytes', o.sendBufferBytes);
  return {
    host,
    port,
    streamId,
    sessionId,
    mtuBytes,
    family,
    datagramBytes,
    maxMessageBytes: optionalInteger('maxMessageBytes', o.maxMessageBytes, maxFramePayloadBytes(datagramBytes), 0, MAX_MESSAGE_BYTES),
    ringCapacity,
    producerMode: optionalChoice('producerMode', o.producerMode, ['single', 'multi'] as const, 'multi'),
    receiveBufferBytes: o.receiveBufferBytes,
    sendBufferBytes: o.sendBufferBytes,
    codec: optionalCodec('codec', o.codec),
  };
}

/**
 * The copying offer() of a publication, from the thread that owns it. A string is offered as
 * its UTF-8 bytes (encoded into a scratch buffer, then copied into the ring as bytes are);
 * one whose UTF-8 is longer than maxMessageBytes throws a FluxRangeError, never truncated.
 * After close() every offer returns NOT_CONNECTED (the ring's own producer would go on
 * accepting until it wrapped, and those messages would go nowhere). With a codec, each value
 * is encoded first (producer.offerValue: a string result is written as UTF-8 into the slot).
 */
export class LocalOffer {
  private producer: Producer | undefined;
  private scratch: Uint8Array | undefined;
  private closed = false;

  constructor(
    private readonly ring: Ring,
    private readonly counters: { backPressured: number },
    private readonly codec: Codec<unknown> | undefined = undefined,
  ) {}

  /** Copies `message` into the ring: its sequence, BACK_PRESSURED (counted) or NOT_CONNECTED. */
  offer(message: unknown): number {
    if (this.codec !== undefined) return this.offerValue(message, this.codec);
    const bytes = typeof message === 'string' ? this.encode(message) : requireBytes('message', message);
    if (this.closed) return NOT_CONNECTED;
    this.producer ??= this.ring.createProducer();
    const result = this.producer.offer(bytes);
    if (result === BACK_PRESSURED) this.counters.backPressured++;
    return result;
  }

  private offerValue(value: unknown, codec: Codec<unknown>): number {
    if (this.closed) return NOT_CONNECTED;
    this.producer ??= this.ring.createProducer();
    const result = this.producer.offerValue(value, codec);
    if (result === BACK_PRESSURED) this.counters.backPressured++;
    return result;
  }

  /** From now on offer() returns NOT_CONNECTED. */
  close(): void {
    this.closed = true;
  }

  private encode(text: string): Uint8Array {
    const max = this.ring.maxMessageBytes;
    this.scratch ??= new Uint8Array(max + 4); // + 4: one more code point shows it is too long
    const { read, written } = encoder.encodeInto(text, this.scratch);
    if (read < text.length || written > max) {
      throw new FluxRangeError(`message is ${Buffer.byteLength(text, 'utf8')} bytes in UTF-8, longer than maxMessageBytes (${max})`);
    }
    return this.scratch.subarray(0, written);
  }
}

const encoder = new TextEncoder();
