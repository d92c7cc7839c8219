/**
 * Waiting on a ring's word, whichever memory holds the ring (shared-memory.ts):
 *
 *   int32.buffer             wait / waitAsync                 notify
 *   SharedArrayBuffer        Atomics.wait / Atomics.waitAsync Atomics.notify
 *   a mapped file's buffer   the provider's FUTEX_WAIT        the provider's FUTEX_WAKE
 *
 * Both pair the same way (the blocking and async strategies' protocol: SLEEPERS, then WAKE,
 * then the probe; a notifier stores, then reads SLEEPERS, then bumps WAKE and wakes): a wait
 * returns at once when the word no longer holds the value read, so no wake-up is lost.
 */
import { externalFutexOf, type FutexResult } from '../shared-memory.js';

/** Whether a thread can wait on `int32`'s words: a SharedArrayBuffer's, or a mapped file's. */
export function isWaitable(int32: Int32Array): boolean {
  return int32.buffer instanceof SharedArrayBuffer || externalFutexOf(int32.buffer) !== undefined;
}

/** Atomics.wait on `int32[index]` while it holds `expected`, for at most `timeoutMs`. */
export function waitOn(int32: Int32Array, index: number, expected: number, timeoutMs: number): FutexResult {
  const futex = externalFutexOf(int32.buffer);
  if (futex === undefined) return Atomics.wait(int32, index, expected, timeoutMs);
  return futex.wait(int32.buffer as ArrayBuffer, int32.byteOffset + index * 4, expected, timeoutMs);
}

/** Atomics.waitAsync's promise (or its immediate result) on `int32[index]`. */
export function waitOnAsync(int32: Int32Array, index: number, expected: number, timeoutMs: number): FutexResult | Promise<FutexResult> {
  const futex = externalFutexOf(int32.buffer);
  if (futex === undefined) {
    const result = Atomics.waitAsync(int32, index, expected, timeoutMs);
    return result.async ? (result.value as Promise<FutexResult>) : (result.value as FutexResult);
  }
  return futex.waitAsync(int32.buffer as ArrayBuffer, int32.byteOffset + index * 4, expected, timeoutMs);
}

/** Atomics.notify on `int32[index]`: wakes every waiter. */
export function notifyOn(int32: Int32Array, index: number): void {
  const futex = externalFutexOf(int32.buffer);
  if (futex === undefined) Atomics.notify(int32, index);
  else futex.wake(int32.buffer as ArrayBuffer, int32.byteOffset + index * 4, 2 ** 31 - 1);
}
