/**
 * A spin-loop pause. A thread that re-loads a cache line another core is writing, with
 * nothing in between, floods that line with requests and (on x86) takes a pipeline flush
 * each time the line changes; C code puts a PAUSE instruction in the loop for this. Node 20
 * has no `Atomics.pause`, so the spinning strategies run this short register-only loop
 * between probes instead.
 *
 * Measured on the 2-vCPU VM (batch-256 throughput probe, consumer spinning on an empty
 * ring): without it the consumer polled ~55 million times per 50 million messages and the
 * pair ran at ~27M msg/s in the host's slow phases; with ~100 iterations between polls it
 * polled ~3 million times and ran at ~90-115M msg/s. A pause costs tens of nanoseconds of
 * latency.
 */

/** Iterations of the pause loop: ~30-60 ns on the machines we measured. */
export const RELAX_ITERATIONS = 100;

let sink = 0;

/** Burns a few tens of nanoseconds without touching shared memory. */
export function relax(): void {
  let accumulator = sink;
  for (let i = 0; i < RELAX_ITERATIONS; i++) accumulator = (accumulator + i) | 0;
  sink = accumulator; // kept observable so the loop is not optimised away
}
