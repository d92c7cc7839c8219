/**
 * Blocking: sleeps in `Atomics.wait` (a futex, on a ring between processes) on the ring's WAKE word until a producer publishes
 * (or a consumer releases) and wakes it. No CPU while idle; each wake-up costs a thread
 * wake-up (~40-100 µs on these VMs). A producer pays for the wake-up only while someone
 * sleeps: it loads the SLEEPERS count after every publish and notifies only if it is not 0.
 *
 * Lost wake-ups cannot happen: the waiter increments SLEEPERS, then loads WAKE, then
 * probes; the producer stores its cursor, then loads SLEEPERS. Atomics are sequentially
 * consistent, so either the probe sees the publish or the producer sees the sleeper and
 * bumps WAKE, which makes the `Atomics.wait` return at once or wakes it (SAFETY.md).
 */
import { SLEEPERS_INDEX, WAKE_INDEX } from '../layout.js';
import { waitOn } from './futex.js';
import { type Probe, startWait, type WaitStrategy } from './wait-strategy.js';

export class BlockingWaitStrategy implements WaitStrategy {
  readonly name = 'blocking';

  waitFor(probe: Probe, int32: Int32Array, timeoutMs: number): number {
    const deadline = startWait(probe, int32, timeoutMs);
    let ready = probe();
    if (ready > 0) return ready;
    Atomics.add(int32, SLEEPERS_INDEX, 1); // tells notifiers someone sleeps; ordered before the probe below
    try {
      for (;;) {
        const wake = Atomics.load(int32, WAKE_INDEX); // the value a notifier must change
        ready = probe();
        if (ready > 0) return ready;
        const remainingMs = deadline - performance.now();
        if (remainingMs <= 0) return 0;
        waitOn(int32, WAKE_INDEX, wake, remainingMs); // Atomics.wait, or a futex on a mapped file (futex.ts)
      }
    } finally {
      Atomics.sub(int32, SLEEPERS_INDEX, 1);
    }
  }
}
