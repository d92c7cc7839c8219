/**
 * How a thread waits for a condition on the ring: a consumer for readable slots, a
 * producer for free ones. A strategy is given a `probe` (returns > 0 once the condition
 * holds, and that value is returned), the ring's int32 view (for the SIGNAL region's
 * sleeper count and wake word) and a timeout. Every wait is bounded by its timeout.
 *
 * | strategy  | latency            | CPU while idle          | needs producer wake-up |
 * |-----------|--------------------|-------------------------|------------------------|
 * | busy spin | lowest (~0.4 µs)   | one full core           | no                     |
 * | yielding  | low                | one full core           | no                     |
 * | sleeping  | up to its max nap  | low                     | no                     |
 * | blocking  | a thread wake-up   | none                    | yes (only if sleeping) |
 * | phased    | spin, then blocks  | spin budget, then none  | yes (only if sleeping) |
 * | async     | an event-loop turn | none, event loop free   | yes (only if sleeping) |
 */
import { FluxTypeError } from '../errors.js';
import { WAKE_INDEX } from '../layout.js';
import { describe, requireFunction, requireTimeout } from '../validate.js';
import { isWaitable } from './futex.js';

export type Probe = () => number;

export interface WaitStrategy {
  readonly name: string;
  /** Blocks until `probe()` > 0 (returns it) or `timeoutMs` passes (returns 0). */
  waitFor(probe: Probe, int32: Int32Array, timeoutMs: number): number;
}

export interface AsyncWaitOptions {
  /** Let the process exit while this wait is pending (default false: the wait keeps it alive). */
  unref?: boolean;
}

export interface AsyncWaiter {
  readonly name: string;
  /** Resolves with `probe()` once > 0, or 0 when `timeoutMs` passes; never blocks the thread. */
  waitForAsync(probe: Probe, int32: Int32Array, timeoutMs: number, options?: AsyncWaitOptions): Promise<number>;
}

/** Spins between clock reads: reading the clock costs ~50-70 ns, a probe a few ns. */
export const SPINS_PER_CLOCK_READ = 256;

/** Validates a timeout and returns its deadline on the `performance.now()` clock. */
export function deadlineMs(timeoutMs: number): number {
  return performance.now() + requireTimeout('timeoutMs', timeoutMs);
}

/**
 * Checks a wait's arguments (every strategy checks the same ones, so strategies stay
 * interchangeable) and returns its deadline: `probe` a function, `int32` a ring's int32
 * view (an Int32Array on a SharedArrayBuffer or a mapped ring file, holding the SIGNAL region), `timeoutMs` a
 * timeout (Infinity allowed).
 */
export function startWait(probe: Probe, int32: Int32Array, timeoutMs: number): number {
  requireFunction('probe', probe);
  if (!(int32 instanceof Int32Array) || !isWaitable(int32) || int32.length <= WAKE_INDEX) {
    throw new FluxTypeError(`int32 must be a ring's int32 view (ring.int32), got ${describe(int32)}`);
  }
  return deadlineMs(timeoutMs);
}

/** A WaitStrategy: an object with a `waitFor` method. */
export function requireWaitStrategy(name: string, value: unknown): WaitStrategy {
  if (value === null || typeof value !== 'object' || typeof (value as WaitStrategy).waitFor !== 'function') {
    throw new FluxTypeError(`${name} must be a wait strategy (an object with waitFor, e.g. new BusySpinWaitStrategy()), got ${describe(value)}`);
  }
  return value as WaitStrategy;
}

/** An AsyncWaiter: an object with a `waitForAsync` method. */
export function requireAsyncWaiter(name: string, value: unknown): AsyncWaiter {
  if (value === null || typeof value !== 'object' || typeof (value as AsyncWaiter).waitForAsync !== 'function') {
    throw new FluxTypeError(`${name} must be an async wait strategy (an object with waitForAsync, e.g. new AsyncWaitStrategy()), got ${describe(value)}`);
  }
  return value as AsyncWaiter;
}
