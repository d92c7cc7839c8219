/**
 * Yielding: spins a while, then backs off with zero-timeout `Atomics.wait` calls between
 * checks. JavaScript has no `sched_yield`: a zero-timeout wait is a ~200 ns trip into the
 * runtime with no system call (measured with strace), so this strategy keeps the core, as
 * busy spin does, but checks the shared cache line ~20x less often, leaving the memory
 * system and a hyper-thread sibling room. Latency stays within a few hundred ns of busy
 * spin. On an oversubscribed machine prefer sleeping, blocking or phased.
 */
import { relax } from './relax.js';
import { type Probe, SPINS_PER_CLOCK_READ, startWait, type WaitStrategy } from './wait-strategy.js';

/** Spins before backing off (the Disruptor's YieldingWaitStrategy spins 100 times). */
export const YIELDING_SPIN_TRIES = 100;
const backOffWord = new Int32Array(new SharedArrayBuffer(4));

export class YieldingWaitStrategy implements WaitStrategy {
  readonly name = 'yielding';

  waitFor(probe: Probe, int32: Int32Array, timeoutMs: number): number {
    const deadline = startWait(probe, int32, timeoutMs);
    for (let spin = 0; spin < YIELDING_SPIN_TRIES; spin++) {
      const ready = probe();
      if (ready > 0) return ready;
      relax();
    }
    for (;;) {
      for (let round = 0; round < SPINS_PER_CLOCK_READ; round++) {
        const ready = probe();
        if (ready > 0) return ready;
        Atomics.wait(backOffWord, 0, 0, 0); // zero timeout: a runtime trip, never a sleep
      }
      if (performance.now() >= deadline) return 0;
    }
  }
}
