/**
 * Phased back-off: busy spin for `spinMs`, then yield for `yieldMs`, then hand over to a
 * fallback (blocking by default). A message that arrives soon after the last one is seen
 * at spin latency; an idle consumer stops burning a core after spinMs + yieldMs.
 */
import { BlockingWaitStrategy } from './blocking.js';
import { relax } from './relax.js';
import { deadlineMs, type Probe, SPINS_PER_CLOCK_READ, type WaitStrategy } from './wait-strategy.js';
import { YieldingWaitStrategy } from './yielding.js';
import { FluxRangeError } from '../errors.js';

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
    this.spinMs = options.spinMs ?? DEFAULT_PHASED_SPIN_MS;
    this.yieldMs = options.yieldMs ?? DEFAULT_PHASED_YIELD_MS;
    this.fallback = options.fallback ?? new BlockingWaitStrategy();
    if (!(this.spinMs >= 0 && this.yieldMs >= 0)) {
      throw new FluxRangeError(`spinMs and yieldMs must be >= 0, got ${this.spinMs} and ${this.yieldMs}`);
    }
  }

  waitFor(probe: Probe, int32: Int32Array, timeoutMs: number): number {
    const deadline = deadlineMs(timeoutMs);
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
