/**
 * The hot mode's control block: one SharedArrayBuffer between the thread that owns a hot
 * publication or subscription (hot.ts) and the worker that busy-polls for it
 * (hot-worker.ts). The worker never yields to its event loop, so it reads no messages:
 * everything the owner asks and everything it reads back is a word here.
 *
 *   int32 word                 written by  read by   what
 *   0  STATE                   worker      owner     STARTING -> RUNNING -> STOPPED
 *   1  STOP                    owner       worker    1: close (checked every turn)
 *   2  CLOSE_TIMEOUT_MS        owner       worker    the close()'s timeout, stored before STOP
 *   3  SENDER_STATE            worker      owner     index into SENDER_STATES (publication)
 *   4  PACKED                  worker      owner     the next ring sequence to pack (publication)
 *   5  CAUGHT_UP               worker      owner     1: everything packed was consumed (publication)
 *   6  COUNTERS_SEQUENCE       worker      owner     a seqlock: odd while the counters are written
 *   7  PAUSED                  worker      owner     1: delivery paused on a full ring (subscription)
 *   ...                        (up to CONTROL_INT32S)
 *   float64 from COUNTERS_OFFSET_BYTES: the counters, in the order of the names the owner
 *   and the worker both take from the same classes (counterNames)
 *
 * The owner's reads of PACKED and CAUGHT_UP: the worker stores CAUGHT_UP after PACKED in
 * each turn (Atomics: sequentially consistent), so an owner that sees PACKED past its target
 * and then CAUGHT_UP = 1 saw a turn in which both held.
 */
import { ReceiverCounters, SenderCounters } from './counters.js';
import type { SenderState } from './sender.js';
import { SubscriptionCounters } from '@flux/udp';

export const STATE_WORD = 0;
export const STOP_WORD = 1;
export const CLOSE_TIMEOUT_MS_WORD = 2;
export const SENDER_STATE_WORD = 3;
export const PACKED_WORD = 4;
export const CAUGHT_UP_WORD = 5;
export const COUNTERS_SEQUENCE_WORD = 6;
export const PAUSED_WORD = 7;
/** Words of the int32 part (room to grow). */
export const CONTROL_INT32S = 16;
/** Where the counters start: after the words, on a cache line. */
export const COUNTERS_OFFSET_BYTES = 64;

export const HotState = { STARTING: 0, RUNNING: 1, STOPPED: 2 } as const;

export const SENDER_STATES: readonly SenderState[] = ['setup', 'connected', 'ending', 'ended', 'timedOut', 'closed'];

/** Counter names, in block order: the publication's, or the subscription's receiver then message counters. */
export function counterNames(role: 'publication' | 'subscription'): string[] {
  if (role === 'publication') return Object.keys(new SenderCounters().snapshot());
  return [...Object.keys(new ReceiverCounters().snapshot()), ...Object.keys(new SubscriptionCounters().snapshot()).map((name) => `message.${name}`)];
}

export function controlBlockBytes(role: 'publication' | 'subscription'): number {
  return COUNTERS_OFFSET_BYTES + 8 * counterNames(role).length;
}

/** The worker's side: writes `values` (block order) under the seqlock. */
export function writeCounters(words: Int32Array, numbers: Float64Array, values: readonly number[]): void {
  Atomics.add(words, COUNTERS_SEQUENCE_WORD, 1); // odd: writing
  for (let i = 0; i < values.length; i++) numbers[i] = values[i];
  Atomics.add(words, COUNTERS_SEQUENCE_WORD, 1); // even: done
}

/** The owner's side: a consistent copy (retried while the worker writes; bounded). */
export function readCounters(words: Int32Array, numbers: Float64Array, names: readonly string[]): Record<string, number> {
  for (let attempt = 0; ; attempt++) {
    const before = Atomics.load(words, COUNTERS_SEQUENCE_WORD);
    const result: Record<string, number> = {};
    for (let i = 0; i < names.length; i++) result[names[i]] = numbers[i];
    if ((before & 1) === 0 && Atomics.load(words, COUNTERS_SEQUENCE_WORD) === before) return result;
    if (attempt >= 1000) return result; // a worker that died mid-write: the last values, as they are
  }
}
