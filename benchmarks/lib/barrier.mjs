// A start line for benchmark workers: each party arrives, then all start together.
const ARRIVED = 0;

export function createBarrier() {
  return new Int32Array(new SharedArrayBuffer(64));
}

/** Arrives and waits (bounded by `timeoutMs`) until `parties` have arrived. */
export function arriveAndWait(barrier, parties, timeoutMs = 30_000) {
  Atomics.add(barrier, ARRIVED, 1);
  Atomics.notify(barrier, ARRIVED);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const arrived = Atomics.load(barrier, ARRIVED);
    if (arrived >= parties) return;
    if (Date.now() > deadline) throw new Error(`barrier: ${arrived} of ${parties} arrived within ${timeoutMs} ms`);
    Atomics.wait(barrier, ARRIVED, arrived, 10);
  }
}
