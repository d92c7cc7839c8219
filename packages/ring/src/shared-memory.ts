/**
 * Memory that other processes map: how a ring gets it, and how a thread waits on a word
 * of it. @flux/ring has no native code; the provider is @flux/uring's addon, which
 * registers itself here when it is imported (`import '@flux/uring'`, or anything that
 * imports it: @flux/udp, @flux/reliable, @flux/sdk).
 *
 *   SharedArrayBuffer (threads)      Atomics.wait / waitAsync / notify     wait/futex.ts
 *   mapped file (processes)          the provider's futex: FUTEX_WAIT / FUTEX_WAKE without
 *                                    FUTEX_PRIVATE_FLAG, keyed by the file's page, so a wake
 *                                    from any process reaches a waiter in any other
 *
 * V8's Atomics work on any ArrayBuffer's int32s (`lock`-prefixed instructions either way),
 * so loads, stores, adds and compare-exchanges between processes are the same as between
 * threads; only Atomics.wait/waitAsync/notify refuse a non-shared buffer, and those go
 * through the provider.
 */
import { FluxError } from './errors.js';

/** A futex wait's result, as Atomics.wait's strings. */
export type FutexResult = 'ok' | 'not-equal' | 'timed-out';

/** Waits and wakes on an int32 of a mapped buffer; `byteOffset` from the buffer's start. */
export interface ExternalFutex {
  wait(buffer: ArrayBuffer, byteOffset: number, expected: number, timeoutMs: number): FutexResult;
  waitAsync(buffer: ArrayBuffer, byteOffset: number, expected: number, timeoutMs: number): Promise<FutexResult>;
  /** Wakes up to `count` waiters; returns how many were woken. */
  wake(buffer: ArrayBuffer, byteOffset: number, count: number): number;
}

/** What maps ring files: @flux/uring's addon. */
export interface SharedMemoryProvider {
  /** Who provides it (for messages). */
  readonly name: string;
  /** Why it cannot map, or '' when it can (the addon is missing, not Linux). */
  readonly unavailableReason: string;
  /** Creates `path` (it must not exist) of `bytes` bytes, permissions `mode`, and maps it. */
  create(path: string, bytes: number, mode: number): ArrayBuffer;
  /** Maps the whole existing file at `path`. */
  open(path: string): ArrayBuffer;
  /** Faults every page of a mapping in ahead of use (for writing or reading), off this thread; its contents do not change. */
  prefault(buffer: ArrayBuffer, write: boolean): Promise<void>;
  readonly futex: ExternalFutex;
}

let provider: SharedMemoryProvider | undefined;
const futexes = new WeakMap<ArrayBuffer, ExternalFutex>();

/** Called by @flux/uring when it loads. The last registration wins (two copies of it are interchangeable). */
export function registerSharedMemoryProvider(value: SharedMemoryProvider): void {
  provider = value;
}

/** Thrown when a ring between processes is asked for and no provider can map files; `reason` says why. */
export class SharedMemoryUnavailableError extends FluxError {
  readonly reason: string;
  constructor(reason: string) {
    super('ERR_FLUX_UNSUPPORTED', `rings between processes need @flux/uring's native addon: ${reason}`);
    this.reason = reason;
  }
}

/** The provider, or a SharedMemoryUnavailableError saying why there is none. */
export function sharedMemoryProvider(): SharedMemoryProvider {
  if (provider === undefined) {
    throw new SharedMemoryUnavailableError("@flux/uring is not loaded (install it and import '@flux/uring' or '@flux/sdk' once)");
  }
  if (provider.unavailableReason !== '') throw new SharedMemoryUnavailableError(provider.unavailableReason);
  return provider;
}

/** Records that `buffer` is a mapping whose words wait through `futex`. */
export function adoptMapped(buffer: ArrayBuffer, futex: ExternalFutex): void {
  futexes.set(buffer, futex);
}

/** The futex of a mapped buffer, or undefined (a SharedArrayBuffer, or a buffer nobody mapped). */
export function externalFutexOf(buffer: ArrayBufferLike): ExternalFutex | undefined {
  return buffer instanceof ArrayBuffer ? futexes.get(buffer) : undefined;
}
