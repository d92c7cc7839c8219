/** Option checks shared by the publication and the subscription, and the clock they read. */


import { requireNumber } from '@flux/ring/validate';

export { requireInteger, requireNonNegative, requirePositive } from '@flux/ring/validate';

/** `undefined` gives `fallback`; anything else (null included) must be a number in [min, max]. */
export function optionalNumber(name: string, value: unknown, fallback: number, min: number, max: number): number {
  return value === undefined ? fallback : requireNumber(name, value, min, max);
}

/** The clock protocol logic is given: monotonic, in ns (a float; sub-µs precision is not needed). */
export function nowNs(): number {
  return performance.now() * 1e6;
}
