/**
 * Phased back-off: busy spin for `spinMs`, then yield for `yieldMs`, then hand over to a
 * fallback (blocking by default). A message that arrives soon after the last one is seen
 * at spin latency; an idle consumer stops burning a core after spinMs + yieldMs.
 */
import { BlockingWaitStrategy } from './blocking.js';
import { relax } from './relax.js';
import { type Probe, requireWaitStrategy, SPINS_PER_CLOCK_READ, startWait, type WaitStrategy } from './wait-strategy.js';
import { YieldingWaitStrategy } from './yielding.js';
import { optionsObject, requireNonNegative } from '../validate.js';

export const DEFAULT_PHASED_SPIN_MS = 0.05;
export const DEFAULT_PHASED_YIELD_MS = 0.1;

export interface PhasedWaitOptions {
  spinMs?: number;
  yieldMs?: number;
  fallback?: WaitStrategy;
}

export class PhasedWaitStrategy implements WaitStrategy {
  readonly name = 'phased';
  readonly spinMs: number;
  readonly yieldMs: number;
  readonly fallback: WaitStrategy;
  private readonly yielding = new YieldingWaitStrategy();

  constructor(options: PhasedWaitOptions = {}) {
    const o = optionsObject('options', options);
    this.spinMs = o.spinMs === undefined ? DEFAULT_PHASED_SPIN_MS : requireNonNegative('spinMs', o.spinMs);
    this.yieldMs = o.yieldMs === undefined ? DEFAULT_PHASED_YIELD_MS : requireNonNegative('yieldMs', o.yieldMs);
    this.fallback = o.fallback === undefined ? new BlockingWaitStrategy() : requireWaitStrategy('fallback', o.fallback);
  }

  waitFor(probe: Probe, int32: Int32Array, timeoutMs: number): number {
    const deadline = startWait(probe, int32, timeoutMs);
    const spinUntil = Math.min(deadline, performance.now() + this.spinMs);
    do {
      for (let spin = 0; spin < SPINS_PER_CLOCK_READ; spin++) {
        const ready = probe();
        if (ready > 0) return ready;
        relax();
      }
    } while (performance.now() < spinUntil);
    const yieldBudgetMs = Math.min(this.yieldMs, deadline - performance.now());
    if (yieldBudgetMs > 0) {
      const ready = this.yielding.waitFor(probe, int32, yieldBudgetMs);
      if (ready > 0) return ready;
    }
    const remainingMs = deadline - performance.now();
    return remainingMs > 0 ? this.fallback.waitFor(probe, int32, remainingMs) : probe();
  }
}
