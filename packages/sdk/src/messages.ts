/**
 * Reading a ring consumer from the event loop: `messages()` is an async iterator of
 * message copies, `readMessages()` a promise-based loop over messages in place. Both wait
 * with AsyncWaitStrategy (Atomics.waitAsync: the event loop stays free), so a message
 * reaches them in tens of microseconds (a wake-up through the event loop), not the
 * sub-microsecond of a thread that polls with a busy-spin wait (`consumer.poll` with
 * `consumer.waitFor(new BusySpinWaitStrategy(), ...)` on a worker of its own).
 *
 *   messages(consumer)           for await (const bytes of ...): a copy per message, yours to keep
 *   messages(consumer, { codec }) for await (const value of ...): each decoded in place (codec.ts in @flux/ring)
 *   readMessages(consumer, fn)   fn(bytes, offsetBytes, lengthBytes): in place, valid during the call
 */
import { AsyncWaitStrategy, type Codec, type Consumer, FluxHandlerError, FluxTypeError, isFluxError, type MessageHandler } from '@flux/ring';
import { describe, optionalCodec, optionalInteger, optionalSignal, optionalTimeout, optionsObject, requireFunction } from '@flux/ring/validate';

export interface ReadOptions {
  /** Stops the reading (the iterator returns, the promise resolves) once aborted. */
  signal?: AbortSignal;
  /** Ends the reading when no message arrives for this long (default Infinity: only the signal or removal ends it). */
  idleTimeoutMs?: number;
}

/** messages()'s options: ReadOptions, and how many messages are copied (or decoded) and released at a time. */
export interface MessagesOptions extends ReadOptions {
  /** 1 .. 2^31-1, default 256. */
  maxBatch?: number;
}

/** One wait lasts at most this long, so an abort is seen within it. */
const WAIT_SLICE_MS = 50;

/** Largest batch a poll takes (the ring's own limit for maxMessages). */
const MAX_BATCH = 2 ** 31 - 1;

/** What the reading loop needs, checked once. */
interface Checked {
  signal: AbortSignal | undefined;
  idleTimeoutMs: number;
}

function isRemoved(error: unknown): boolean {
  return isFluxError(error) && error.code === 'ERR_FLUX_CONSUMER_REMOVED';
}

/**
 * Waits (without blocking the event loop) until the consumer has a message, the signal
 * aborts, the idle timeout passes or the consumer is removed. Returns whether a message is there.
 */
async function waitForMessage(consumer: Consumer, wait: AsyncWaitStrategy, options: Checked): Promise<boolean> {
  const deadline = Date.now() + options.idleTimeoutMs;
  for (;;) {
    if (options.signal?.aborted) return false;
    const leftMs = Math.max(0, deadline - Date.now());
    let available: number;
    try {
      // A timeout of 0 still probes: messages already there are read even with idleTimeoutMs 0.
      available = await consumer.waitForAsync(wait, Math.min(WAIT_SLICE_MS, leftMs)); // keeps the process alive while it waits
    } catch (error) {
      if (isRemoved(error)) return false; // the consumer was removed from the ring
      throw error;
    }
    if (available > 0) return true;
    if (deadline - Date.now() <= 0) return false;
  }
}

/**
 * The consumer and the options, checked: a consumer is a ring Consumer (anything with its
 * poll, available and waitForAsync), options an object (undefined for none), `signal` an
 * AbortSignal, `idleTimeoutMs` a number of at least 0 (Infinity allowed).
 */
function checkOptions(consumer: Consumer, options: ReadOptions | undefined): Checked {
  const c = consumer as Partial<Consumer> | null;
  if (c === null || typeof c !== 'object' || typeof c.poll !== 'function' || typeof c.available !== 'function' || typeof c.waitForAsync !== 'function') {
    throw new FluxTypeError(`consumer must be a ring Consumer (ring.openConsumer(id)), got ${describe(consumer)}`);
  }
  const o = optionsObject('options', options);
  return {
    signal: optionalSignal('signal', o.signal),
    idleTimeoutMs: optionalTimeout('idleTimeoutMs', o.idleTimeoutMs, Infinity),
  };
}

/**
 * Each message the consumer reads, as a copy (a new Uint8Array), in order. Up to
 * `maxBatch` messages (1 .. 2^31-1, default 256) are copied and released at a time, so the
 * producers get their slots back before the loop body runs. Ends on abort, idle timeout or
 * removal of the consumer. Bad arguments reject the first `next()` with a FluxTypeError or
 * FluxRangeError naming them.
 */
export function messages(consumer: Consumer, options?: MessagesOptions): AsyncGenerator<Uint8Array, void, undefined>;
/**
 * With `{ codec }`: each message decoded in place (no copy: `decode` gets a view of the slot,
 * valid during the call) and yielded as the codec's value. A message it cannot decode ends
 * the iteration with a FluxHandlerError (`cause`: what decode threw), after the values
 * decoded before it; that message and those before it are consumed.
 */
export function messages<T>(consumer: Consumer, options: MessagesOptions & { codec: Codec<T> }): AsyncGenerator<T, void, undefined>;
export async function* messages(consumer: Consumer, options?: MessagesOptions & { codec?: Codec<unknown> }): AsyncGenerator<unknown, void, undefined> {
  const checked = checkOptions(consumer, options);
  const maxBatch = optionalInteger('maxBatch', options?.maxBatch, 256, 1, MAX_BATCH);
  const codec = optionalCodec('codec', options?.codec);
  const wait = new AsyncWaitStrategy();
  const batch: unknown[] = [];
  let failure: FluxHandlerError | undefined;
  const take: MessageHandler =
    codec === undefined
      ? (bytes, offsetBytes, lengthBytes) => {
          batch.push(bytes.slice(offsetBytes, offsetBytes + lengthBytes));
        }
      : (bytes, offsetBytes, lengthBytes, sequence) => {
          try {
            batch.push(codec.decode(bytes.subarray(offsetBytes, offsetBytes + lengthBytes)));
          } catch (error) {
            failure = new FluxHandlerError(`codec.decode of ring sequence ${sequence}`, error);
            throw failure; // stops the poll here: this slot and those before it are consumed
          }
        };
  while (await waitForMessage(consumer, wait, checked)) {
    try {
      consumer.poll(take, maxBatch);
    } catch (error) {
      if (isRemoved(error)) return; // removed between the wait and the poll
      if (error !== failure) throw error;
    }
    for (let i = 0; i < batch.length; i++) yield batch[i];
    batch.length = 0;
    if (failure !== undefined) throw failure;
  }
}

/**
 * Calls `handler` for each message in place (no copy: the view is valid during the call),
 * batch by batch, until abort, idle timeout or removal of the consumer. Resolves with the
 * number of slots consumed. A handler that throws rejects the promise with a
 * FluxHandlerError (`cause`: what it threw); the messages before it, and the one it threw
 * on, are consumed (the ring's rule for poll), and the next read starts after it. Bad
 * arguments reject with a FluxTypeError or FluxRangeError naming them.
 */
export async function readMessages(consumer: Consumer, handler: MessageHandler, options?: ReadOptions): Promise<number> {
  const checked = checkOptions(consumer, options);
  requireFunction('handler', handler);
  const guarded: MessageHandler = (bytes, offsetBytes, lengthBytes, sequence, endOfBatch) => {
    try {
      handler(bytes, offsetBytes, lengthBytes, sequence, endOfBatch);
    } catch (error) {
      throw new FluxHandlerError('readMessages handler', error);
    }
  };
  const wait = new AsyncWaitStrategy();
  let consumed = 0;
  while (await waitForMessage(consumer, wait, checked)) {
    try {
      consumed += consumer.poll(guarded);
    } catch (error) {
      if (isRemoved(error)) return consumed; // removed between the wait and the poll
      throw error;
    }
  }
  return consumed;
}
