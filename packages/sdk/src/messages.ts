/**
 * Reading a ring consumer from the event loop: `messages()` is an async iterator of
 * message copies, `readMessages()` a promise-based loop over messages in place. Both wait
 * with AsyncWaitStrategy (Atomics.waitAsync: the event loop stays free), so a message
 * reaches them in tens of microseconds (a wake-up through the event loop), not the
 * sub-microsecond of a thread that polls with a busy-spin wait (`consumer.poll` with
 * `consumer.waitFor(new BusySpinWaitStrategy(), ...)` on a worker of its own).
 *
 *   messages(consumer)           for await (const bytes of ...): a copy per message, yours to keep
 *   readMessages(consumer, fn)   fn(bytes, offsetBytes, lengthBytes): in place, valid during the call
 */
import { AsyncWaitStrategy, type Consumer, FluxRangeError, FluxTypeError, type MessageHandler } from '@flux/ring';

export interface ReadOptions {
  /** Stops the reading (the iterator returns, the promise resolves) once aborted. */
  signal?: AbortSignal;
  /** Ends the reading when no message arrives for this long (default Infinity: only the signal or removal ends it). */
  idleTimeoutMs?: number;
}

/** One wait lasts at most this long, so an abort is seen within it. */
const WAIT_SLICE_MS = 50;

/**
 * Waits (without blocking the event loop) until the consumer has a message, the signal
 * aborts, the idle timeout passes or the consumer is removed. Returns whether a message is there.
 */
async function waitForMessage(consumer: Consumer, wait: AsyncWaitStrategy, options: ReadOptions): Promise<boolean> {
  const idleTimeoutMs = options.idleTimeoutMs ?? Infinity;
  const deadline = Date.now() + idleTimeoutMs;
  for (;;) {
    if (options.signal?.aborted) return false;
    const leftMs = deadline - Date.now();
    if (leftMs <= 0) return false;
    let available: number;
    try {
      available = await consumer.waitForAsync(wait, Math.min(WAIT_SLICE_MS, leftMs)); // keeps the process alive while it waits
    } catch {
      return false; // the consumer was removed from the ring
    }
    if (available > 0) return true;
  }
}

function checkOptions(consumer: Consumer, options: ReadOptions): void {
  if (consumer === null || typeof consumer !== 'object' || typeof consumer.poll !== 'function') {
    throw new FluxTypeError(`expected a ring Consumer (ring.openConsumer(id)), got ${String(consumer)}`);
  }
  const idle = options.idleTimeoutMs;
  if (idle !== undefined && (typeof idle !== 'number' || Number.isNaN(idle) || idle < 0)) {
    throw new FluxRangeError(`idleTimeoutMs must be a number of at least 0, got ${String(idle)}`);
  }
}

/**
 * Each message the consumer reads, as a copy (a new Uint8Array), in order. Up to
 * `maxBatch` messages are copied and released at a time, so the producers get their slots
 * back before the loop body runs. Ends on abort, idle timeout or removal of the consumer.
 */
export async function* messages(consumer: Consumer, options: ReadOptions & { maxBatch?: number } = {}): AsyncGenerator<Uint8Array, void, undefined> {
  checkOptions(consumer, options);
  const maxBatch = options.maxBatch ?? 256;
  if (!Number.isInteger(maxBatch) || maxBatch < 1) throw new FluxRangeError(`maxBatch must be a positive integer, got ${String(maxBatch)}`);
  const wait = new AsyncWaitStrategy();
  const batch: Uint8Array[] = [];
  const copy: MessageHandler = (bytes, offsetBytes, lengthBytes) => {
    batch.push(bytes.slice(offsetBytes, offsetBytes + lengthBytes));
  };
  while (await waitForMessage(consumer, wait, options)) {
    consumer.poll(copy, maxBatch);
    for (let i = 0; i < batch.length; i++) yield batch[i];
    batch.length = 0;
  }
}

/**
 * Calls `handler` for each message in place (no copy: the view is valid during the call),
 * batch by batch, until abort, idle timeout or removal of the consumer. Resolves with the
 * number of slots consumed. A handler that throws rejects the promise; the messages before
 * it, and the one it threw on, are consumed.
 */
export async function readMessages(consumer: Consumer, handler: MessageHandler, options: ReadOptions = {}): Promise<number> {
  checkOptions(consumer, options);
  if (typeof handler !== 'function') throw new FluxTypeError(`handler must be a function, got ${typeof handler}`);
  const wait = new AsyncWaitStrategy();
  let consumed = 0;
  while (await waitForMessage(consumer, wait, options)) consumed += consumer.poll(handler);
  return consumed;
}
