/**
 * Busy spin: re-checks the ring in a loop, with a short register-only pause between checks
 * (relax.ts). The lowest latency there is (a publish is seen within a cache-line transfer
 * plus one pause), at the price of a
 * whole core for as long as it waits. Use it only with a core to spare per spinning thread;
 * on a 2-core machine two spinners and anything else fight for the CPU.
 */
import { relax } from './relax.js';
import { type Probe, SPINS_PER_CLOCK_READ, startWait, type WaitStrategy } from './wait-strategy.js';

export class BusySpinWaitStrategy implements WaitStrategy {
  readonly name = 'busy-spin';

  waitFor(probe: Probe, int32: Int32Array, timeoutMs: number): number {
    const deadline = startWait(probe, int32, timeoutMs);
    for (;;) {
      for (let spin = 0; spin < SPINS_PER_CLOCK_READ; spin++) {
        const ready = probe();
        if (ready > 0) return ready;
        relax(); // the PAUSE between polls (see relax.ts)
      }
      if (performance.now() >= deadline) return 0;
    }
  }
}
