/** Helpers shared by the unit tests (not exported from the package). */
import type { Consumer } from './consumer.js';
import type { Producer } from './producer.js';

/** Claims one slot of `message.length`, writes it in place, publishes it. */
export function publishInPlace(producer: Producer, message: readonly number[]): number {
  const sequence = producer.tryClaim(1, message.length);
  if (sequence >= 0) {
    producer.ring.bytes.set(message, producer.ring.offsetOf(sequence));
    producer.publish(sequence, 1);
  }
  return sequence;
}

/** Drains everything readable now, as arrays of bytes. */
export function drain(consumer: Consumer, max?: number): number[][] {
  const seen: number[][] = [];
  consumer.poll((bytes, offset, length) => {
    seen.push([...bytes.subarray(offset, offset + length)]);
  }, max);
  return seen;
}
