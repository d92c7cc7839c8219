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
import { FluxRangeError } from '../errors.js';

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
  if (typeof timeoutMs !== 'number' || Number.isNaN(timeoutMs) || timeoutMs < 0) {
    throw new FluxRangeError(`timeoutMs must be a number >= 0 (Infinity allowed), got ${String(timeoutMs)}`);
  }
  return performance.now() + timeoutMs;
}
