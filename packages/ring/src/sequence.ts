/**
 * Sequence arithmetic. A sequence is a 31-bit non-negative integer that wraps at 2^31, so
 * every sequence a user sees is >= 0 and negative numbers are free for return codes
 * (BACK_PRESSURED, NOT_CONNECTED), as Aeron does with positions.
 *
 * Two sequences are compared by their signed 31-bit difference, which is exact while they
 * are less than 2^30 apart; a ring's capacity is at most 2^29, and no party is ever more
 * than one capacity ahead of another, so every comparison in the ring is exact.
 */

export const SEQUENCE_MASK = 0x7fff_ffff;
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
