/**
 * Async: for a consumer on the event loop. Waits with `Atomics.waitAsync` on the ring's
 * WAKE word, so the thread keeps running other work; producers wake it exactly as they
 * wake the blocking strategy. Latency is a wake-up plus an event-loop turn.
 *
 * On a ring between processes the wait is the provider's waitAsync: an io_uring FUTEX_WAIT
 * whose completion wakes this thread's event loop (@flux/uring's FutexWaiter), or, where
 * io_uring has none, a futex wait on a libuv pool thread, which then holds one of the pool's
 * threads (UV_THREADPOOL_SIZE, 4 by default) until it is woken or times out.
 *
 * A pending `Atomics.waitAsync` does not keep Node's event loop alive (measured: the
 * process exits), so the wait holds a timer that does, for as long as it is pending;
 * `{ unref: true }` lets the process exit instead.
 */
import { SLEEPERS_INDEX, WAKE_INDEX } from '../layout.js';
import { optionalBoolean, optionsObject } from '../validate.js';
import { waitOnAsync } from './futex.js';
import { type AsyncWaiter, type AsyncWaitOptions, type Probe, startWait } from './wait-strategy.js';

/** Longest interval setInterval accepts; the keep-alive timer never needs to fire. */
const KEEP_ALIVE_INTERVAL_MS = 2 ** 31 - 1;
function keepAlive(): void {}

export class AsyncWaitStrategy implements AsyncWaiter {
  readonly name = 'async';

  async waitForAsync(probe: Probe, int32: Int32Array, timeoutMs: number, options?: AsyncWaitOptions): Promise<number> {
    const deadline = startWait(probe, int32, timeoutMs);
    const unref = optionalBoolean('options.unref', optionsObject('options', options).unref, false);
    let ready = probe();
    if (ready > 0) return ready;
    const timer = setInterval(keepAlive, KEEP_ALIVE_INTERVAL_MS);
    if (unref) timer.unref();
    Atomics.add(int32, SLEEPERS_INDEX, 1); // tells notifiers someone waits; ordered before the probe below
    try {
      for (;;) {
        const wake = Atomics.load(int32, WAKE_INDEX); // the value a notifier must change
        ready = probe();
        if (ready > 0) return ready;
        const remainingMs = deadline - performance.now();
        if (remainingMs <= 0) return 0;
        const result = waitOnAsync(int32, WAKE_INDEX, wake, remainingMs); // Atomics.waitAsync, or the mapped file's futex (futex.ts)
        if (typeof result !== 'string') await result;
      }
    } finally {
      Atomics.sub(int32, SLEEPERS_INDEX, 1);
      clearInterval(timer);
    }
  }
}
