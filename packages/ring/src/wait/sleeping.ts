/**
 * Sleeping: progressive back-off. Spins, then naps with timed `Atomics.wait` calls whose
 * length doubles from `minNapMs` to `maxNapMs`. Producers never need to wake it, so it
 * costs them nothing; a message waits at most one nap (plus the kernel's timer slack,
 * ~50 µs here) before it is seen. Good for consumers that are idle most of the time and
 * can take a few hundred µs of latency; CPU use while idle is near zero.
 */
import { deadlineMs, type Probe, type WaitStrategy } from './wait-strategy.js';
import { FluxRangeError } from '../errors.js';

export const SLEEPING_SPIN_TRIES = 200;
export const DEFAULT_MIN_NAP_MS = 0.001;
export const DEFAULT_MAX_NAP_MS = 1;
const napWord = new Int32Array(new SharedArrayBuffer(4));

export interface SleepingWaitOptions {
  minNapMs?: number;
  maxNapMs?: number;
}

export class SleepingWaitStrategy implements WaitStrategy {
  readonly name = 'sleeping';
  readonly minNapMs: number;
  readonly maxNapMs: number;

  constructor(options: SleepingWaitOptions = {}) {
    this.minNapMs = options.minNapMs ?? DEFAULT_MIN_NAP_MS;
    this.maxNapMs = options.maxNapMs ?? DEFAULT_MAX_NAP_MS;
    if (!(this.minNapMs > 0 && this.maxNapMs >= this.minNapMs && Number.isFinite(this.maxNapMs))) {
      throw new FluxRangeError(`need 0 < minNapMs <= maxNapMs < Infinity, got ${this.minNapMs} and ${this.maxNapMs}`);
    }
  }

  waitFor(probe: Probe, _int32: Int32Array, timeoutMs: number): number {
    const deadline = deadlineMs(timeoutMs);
    for (let spin = 0; spin < SLEEPING_SPIN_TRIES; spin++) {
      const ready = probe();
      if (ready > 0) return ready;
    }
    let napMs = this.minNapMs;
    for (;;) {
      const ready = probe();
      if (ready > 0) return ready;
      const remainingMs = deadline - performance.now();
      if (remainingMs <= 0) return 0;
      Atomics.wait(napWord, 0, 0, Math.min(napMs, remainingMs)); // nobody notifies napWord: a timed nap
      napMs = Math.min(napMs * 2, this.maxNapMs);
    }
  }
}
