/**
 * Sequence arithmetic. A sequence is a 31-bit non-negative integer that wraps at 2^31, so
 * every sequence a user sees is >= 0 and negative numbers are free for return codes
 * (BACK_PRESSURED, NOT_CONNECTED), as Aeron does with positions.
 *
 * Two sequences are compared by their signed 31-bit difference, which is exact while they
 * are less than 2^30 apart; a ring's capacity is at most 2^29, and no party is ever more
 * than one capacity ahead of another, so every comparison in the ring is exact.
 */

import { rejectInteger } from './validate.js';

export const SEQUENCE_MASK = 0x7fff_ffff;
/**
 * Largest value a sequence argument takes: a sequence (0 .. 2^31-1), or a sequence plus an
 * index within a claim written without wrapping (`ring.offsetOf(first + i)`), taken modulo 2^31.
 */
export const MAX_SEQUENCE_ARGUMENT = 2 ** 32 - 1;
/** The sequence before 0: the cursor and every consumer's sequence start here. */
export const INITIAL_SEQUENCE = SEQUENCE_MASK;

/** `sequence + count`, wrapped. */
export function addSequence(sequence: number, count: number): number {
  return (sequence + count) & SEQUENCE_MASK;
}

/** Signed distance `a - b` of two wrapped sequences. */
export function sequenceDiff(a: number, b: number): number {
  return ((a - b) << 1) >> 1;
}

/**
 * Throws the error for a bad sequence argument: not an integer from 0 to 2^32-1. Hot paths
 * test `typeof value !== 'number' || value >>> 0 !== value` (non-numbers, NaN, fractions,
 * negatives, 2^32 and more) and call this only when it fails.
 */
export function rejectSequence(name: string, value: unknown): never {
  return rejectInteger(name, value, 0, MAX_SEQUENCE_ARGUMENT);
}

// ---- the checked forms @flux/ring exports (the ring itself uses the two above) ----------

/** `sequence + count`, wrapped. `sequence` is 0 .. 2^32-1 (taken modulo 2^31), `count` any int32. */
export function checkedAddSequence(sequence: number, count: number): number {
  if (typeof sequence !== 'number' || sequence >>> 0 !== sequence) rejectSequence('sequence', sequence);
  if (typeof count !== 'number' || (count | 0) !== count) rejectInteger('count', count, -(2 ** 31), 2 ** 31 - 1);
  return (sequence + count) & SEQUENCE_MASK;
}

/** Signed distance `a - b` of two wrapped sequences (each 0 .. 2^32-1, taken modulo 2^31). */
export function checkedSequenceDiff(a: number, b: number): number {
  if (typeof a !== 'number' || a >>> 0 !== a) rejectSequence('a', a);
  if (typeof b !== 'number' || b >>> 0 !== b) rejectSequence('b', b);
  return ((a - b) << 1) >> 1;
}
