/** Option checks shared by the publication and the subscription, and the clock they read. */

import { FluxRangeError } from '@flux/ring';

export function requireInteger(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new FluxRangeError(`${name} must be an integer from ${min} to ${max}, got ${String(value)}`);
  }
  return value;
}

export function requirePositive(name: string, value: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new FluxRangeError(`${name} must be a positive number, got ${String(value)}`);
  }
  return value;
}

export function requireNonNegative(name: string, value: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new FluxRangeError(`${name} must be a number of at least 0, got ${String(value)}`);
  }
  return value;
}

/** The clock protocol logic is given: monotonic, in ns (a float; sub-µs precision is not needed). */
export function nowNs(): number {
  return performance.now() * 1e6;
}
