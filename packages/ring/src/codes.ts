/**
 * Back-pressure is a return value, never an exception. A claim or offer returns the first
 * sequence it claimed (>= 0) or one of these codes.
 */

/** The slowest consumer is a whole ring behind: try again later (or wait for capacity). */
export const BACK_PRESSURED = -1;
/** No consumer is attached, so nothing would be delivered: the message was not written. */
export const NOT_CONNECTED = -2;

export type ClaimResult = number;
