/**
 * Sleeping: progressive back-off. Spins, then naps with timed `Atomics.wait` calls whose
 * length doubles from `minNapMs` to `maxNapMs`. Producers never need to wake it, so it
 * costs them nothing; a message waits at most one nap (plus the kernel's timer slack,
 * ~50 µs here) before it is seen. Good for consumers that are idle most of the time and
 * can take a few hundred µs of latency; CPU use while idle is near zero.
 */
import { type Probe, startWait, type WaitStrategy } from './wait-strategy.js';
import { FluxRangeError } from '../errors.js';
import { describe, optionsObject, requirePositive } from '../validate.js';

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
    const o = optionsObject('options', options);
    this.minNapMs = o.minNapMs === undefined ? DEFAULT_MIN_NAP_MS : requirePositive('minNapMs', o.minNapMs);
    const maxNapMs = o.maxNapMs === undefined ? Math.max(DEFAULT_MAX_NAP_MS, this.minNapMs) : requirePositive('maxNapMs', o.maxNapMs);
    if (maxNapMs < this.minNapMs) {
      throw new FluxRangeError(`maxNapMs must be at least minNapMs (${this.minNapMs}), got ${describe(maxNapMs)}`);
    }
    this.maxNapMs = maxNapMs;
  }

  waitFor(probe: Probe, int32: Int32Array, timeoutMs: number): number {
    const deadline = startWait(probe, int32, timeoutMs);
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
