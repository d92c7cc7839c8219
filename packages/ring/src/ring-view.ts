/**
 * What each ring algorithm sees of a Ring: narrow views, so the producers, the consumer and
 * the stall detector depend on the few members they use, and not on ring.ts (which creates
 * them: the dependency runs one way only).
 *
 *   ring.ts ──creates──> SingleProducer, MultiProducer (ProducerView)
 *           ──creates──> Consumer (ConsumerView)
 *   StallDetector (LivenessView) <── given a ring by the application
 *
 * A Ring satisfies every view (TypeScript checks it where ring.ts passes `this`). The
 * algorithms' constructors are public, so they check at run time that they were given a
 * Ring of this copy of @flux/ring: `isRing`, by a brand ring.ts sets on every Ring.
 */
import type { ProducerModeName } from './layout.js';

/** The ring's memory and geometry: what every producer and consumer reads and writes. */
export interface RingMemory {
  /** The whole buffer, for in-place reads and writes at `offsetOf(sequence)`. */
  readonly bytes: Uint8Array;
  /** The whole buffer as int32s: the control words. */
  readonly int32: Int32Array;
  /** One int32 per slot: the length of the message in it. */
  readonly lengths: Int32Array;
  /** Multi-producer only: per slot, the last sequence of the batch that starts there. */
  readonly available: Int32Array;
  readonly capacity: number;
  /** `sequence & indexMask` is a sequence's slot index. */
  readonly indexMask: number;
  readonly maxMessageBytes: number;
  readonly slotStrideBytes: number;
  /** Where slot 0's payload starts: loops that walk known-good sequences compute offsets from it, unchecked. */
  readonly dataOffsetBytes: number;
  readonly producerMode: ProducerModeName;
  offsetOf(sequence: number): number;
  lengthOf(sequence: number): number;
  /** Wakes threads asleep in a blocking wait on this ring. */
  wakeSleepers(): void;
}

/** A producer's view: the memory, and where the slowest consumer is. */
export interface ProducerView extends RingMemory {
  minimumGatingSequence(reference: number): number;
}

/** A consumer's view: the memory, the consumer registry's state, and the published scan. */
export interface ConsumerView extends RingMemory {
  readonly maxConsumers: number;
  isConsumerActive(id: number): boolean;
  scanPublished(after: number, limit: number): number;
}

/** The stall detector's view: positions and the registry, nothing of the memory. */
export interface LivenessView {
  readonly maxConsumers: number;
  cursor(): number;
  consumerSequence(id: number): number;
  isConsumerActive(id: number): boolean;
  removeConsumer(id: number): boolean;
}

/** Set by ring.ts on every Ring it makes (this module's own symbol: a Ring of this copy of the package). */
export const RING_BRAND: unique symbol = Symbol('@flux/ring Ring');

/** Whether `value` is a Ring made by this copy of @flux/ring (Ring.create or Ring.attach). */
export function isRing(value: unknown): boolean {
  return typeof value === 'object' && value !== null && (value as { [RING_BRAND]?: boolean })[RING_BRAND] === true;
}
