/** Option checks shared by the publication and the subscription, and the clock they read. */


export { requireInteger, requireNonNegative, requirePositive } from '@flux/ring/validate';

/** The clock protocol logic is given: monotonic, in ns (a float; sub-µs precision is not needed). */
export function nowNs(): number {
  return performance.now() * 1e6;
}
