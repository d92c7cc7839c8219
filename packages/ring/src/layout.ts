/**
 * Memory layout of a Flux ring: constants and offset helpers only. The algorithms that use
 * them live in `sequencer-*.ts`, `producer.ts` and `consumer.ts`.
 *
 * One buffer holds everything: a SharedArrayBuffer (threads) or a mapped file (processes).
 * Every region starts at a multiple of 128 bytes from the buffer's start, and every counter
 * written by one party lives alone in its own region. What that guarantees depends on where
 * the buffer's first byte is:
 *   - a ring file: the mapping is page-aligned, so regions start on 128-byte address
 *     boundaries (two cache lines: the adjacent-line prefetcher cannot couple two regions),
 *     and slots on 8-byte ones (64-byte ones when the stride is a multiple of 64);
 *   - a SharedArrayBuffer: V8 chooses the address and does not promise 64-byte alignment, so
 *     a region may start inside a line. Counters of different regions are still 128 bytes
 *     apart: never on one line or one adjacent-line pair. Slots may straddle two lines.
 *
 * ```
 *  byte 0 ┌──────────────────────────────────────────────┐
 *         │ HEADER      magic, version, geometry, owner  │ once at creation; producer owner
 *    128  ├──────────────────────────────────────────────┤
 *         │ CLAIM       claim sequence (multi-producer)   │ producers (CAS)
 *    256  ├──────────────────────────────────────────────┤
 *         │ CURSOR      published cursor (single producer)│ the producer
 *    384  ├──────────────────────────────────────────────┤
 *         │ SIGNAL      sleeper count, wake-up word       │ blocked waiters / notifiers
 *    512  ├──────────────────────────────────────────────┤
 *         │ CONSUMER 0  sequence, state, after, gen, owner│ consumer 0
 *         ├──────────────────────────────────────────────┤
 *         │ ...         one 128-byte region per consumer  │
 *         ├──────────────────────────────────────────────┤
 *         │ AVAILABLE   int32 per slot (multi-producer)   │ producers, once per batch
 *         ├──────────────────────────────────────────────┤
 *         │ LENGTHS     int32 per slot: message bytes     │ producers, before publish
 *         ├──────────────────────────────────────────────┤
 *         │ DATA        capacity x slotStrideBytes        │ producers, before publish
 *         └──────────────────────────────────────────────┘
 * ```
 *
 * Sequences are 31-bit integers that wrap (see sequence.ts), so capacity is at most 2^29 and
 * no party is ever more than one capacity ahead of another.
 *
 * Publish rule: a slot's LENGTHS entry and DATA bytes are plain writes made visible by one
 * `Atomics.store` per batch — CURSOR (single producer) or the AVAILABLE entry of the batch's
 * first slot, holding the batch's last sequence (multi-producer). See SAFETY.md.
 */

/** Written in the header so an attach can reject a buffer that is not a Flux ring. */
export const RING_MAGIC = 0x464c5852; // "FLXR"
/** Bumped whenever any offset or meaning below changes. */
export const LAYOUT_VERSION = 1;

export const CACHE_LINE_BYTES = 64;
/** Region spacing: two cache lines, against false sharing and adjacent-line prefetch. */
export const REGION_BYTES = CACHE_LINE_BYTES * 2;
const INT32_BYTES = 4;
const REGION_INT32S = REGION_BYTES / INT32_BYTES;

/** Alignment of every message payload: an 8-byte-aligned view (Float64, BigInt64) fits in place. */
export const PAYLOAD_ALIGNMENT_BYTES = 8;
export const MAX_CAPACITY = 2 ** 29;
export const MAX_CONSUMERS = 32; // the after-mask is one int32
/** Largest SharedArrayBuffer a ring will allocate (int32-indexable). */
export const MAX_RING_BYTES = 2 ** 31 - 1;

// ---- HEADER region, int32 indexes --------------------------------------------------------
export const HEADER_OFFSET_BYTES = 0;
export const MAGIC_INDEX = HEADER_OFFSET_BYTES / INT32_BYTES;
export const LAYOUT_VERSION_INDEX = MAGIC_INDEX + 1;
export const CAPACITY_INDEX = LAYOUT_VERSION_INDEX + 1;
export const MAX_MESSAGE_BYTES_INDEX = CAPACITY_INDEX + 1;
export const SLOT_STRIDE_BYTES_INDEX = MAX_MESSAGE_BYTES_INDEX + 1;
export const PRODUCER_MODE_INDEX = SLOT_STRIDE_BYTES_INDEX + 1;
export const MAX_CONSUMERS_INDEX = PRODUCER_MODE_INDEX + 1;
/** Single-producer mode: 1 once the one producer has been created (a second throws). */
export const SINGLE_PRODUCER_TAKEN_INDEX = MAX_CONSUMERS_INDEX + 1;
/** The process that created the ring (process-identity.ts): pid, then its start time in clock ticks, low and high words. */
export const CREATOR_PID_INDEX = SINGLE_PRODUCER_TAKEN_INDEX + 1;
export const CREATOR_START_LOW_INDEX = CREATOR_PID_INDEX + 1;
export const CREATOR_START_HIGH_INDEX = CREATOR_START_LOW_INDEX + 1;
/**
 * Single-producer mode: the process holding the producer (process-identity.ts): its pid
 * (stored last; -1 while another process takes the producer over), then its start time in
 * clock ticks, low and high words. A ring file's producer whose process is gone can be
 * taken over.
 */
export const PRODUCER_OWNER_PID_INDEX = CREATOR_START_HIGH_INDEX + 1;
export const PRODUCER_OWNER_START_LOW_INDEX = PRODUCER_OWNER_PID_INDEX + 1;
export const PRODUCER_OWNER_START_HIGH_INDEX = PRODUCER_OWNER_START_LOW_INDEX + 1;
/** PRODUCER_OWNER_PID_INDEX while a process takes the producer over. */
export const OWNER_TAKING_OVER = -1;

// ---- CLAIM region ------------------------------------------------------------------------
export const CLAIM_OFFSET_BYTES = HEADER_OFFSET_BYTES + REGION_BYTES;
/** Highest sequence claimed so far (multi-producer CAS target). */
export const CLAIM_SEQUENCE_INDEX = CLAIM_OFFSET_BYTES / INT32_BYTES;

// ---- CURSOR region -----------------------------------------------------------------------
export const CURSOR_OFFSET_BYTES = CLAIM_OFFSET_BYTES + REGION_BYTES;
/** Highest sequence published (single producer); one store publishes a whole batch. */
export const CURSOR_INDEX = CURSOR_OFFSET_BYTES / INT32_BYTES;

// ---- SIGNAL region -----------------------------------------------------------------------
export const SIGNAL_OFFSET_BYTES = CURSOR_OFFSET_BYTES + REGION_BYTES;
/** Number of threads blocked (or about to block) in Atomics.wait on WAKE_INDEX. */
export const SLEEPERS_INDEX = SIGNAL_OFFSET_BYTES / INT32_BYTES;
/** Futex word: bumped, then notified, whenever a cursor or consumer sequence moves and someone sleeps. */
export const WAKE_INDEX = SLEEPERS_INDEX + 1;

// ---- CONSUMER regions, one per consumer ---------------------------------------------------
export const CONSUMERS_OFFSET_BYTES = SIGNAL_OFFSET_BYTES + REGION_BYTES;
/** Within a consumer region: last sequence consumed (the gating sequence). */
export const CONSUMER_SEQUENCE_FIELD = 0;
/** Within a consumer region: one of ConsumerState. */
export const CONSUMER_STATE_FIELD = 1;
/** Within a consumer region: bit i set = runs after consumer i. */
export const CONSUMER_AFTER_MASK_FIELD = 2;
/** Within a consumer region: bumped each time the region is handed out, so a removed consumer learns it. */
export const CONSUMER_GENERATION_FIELD = 3;
/** Within a consumer region: the process reading as it (openConsumer): pid (0: not opened yet), start ticks low, high. */
export const CONSUMER_OWNER_PID_FIELD = 4;
export const CONSUMER_OWNER_START_LOW_FIELD = 5;
export const CONSUMER_OWNER_START_HIGH_FIELD = 6;

export const ConsumerState = {
  FREE: 0,
  /** Being set up: not yet gating producers. */
  JOINING: 1,
  ACTIVE: 2,
} as const;

export const ProducerMode = {
  SINGLE: 1,
  MULTI: 2,
} as const;
export type ProducerModeName = 'single' | 'multi';

/**
 * AVAILABLE, multi-producer: a claim's first slot holds `last | CLAIMED_MARKER_BIT` from the
 * claim until its publish (which stores `last`, a sequence: never negative). Consumers read a
 * negative marker as not published; a ClaimUnblocker that finds one stuck for its timeout
 * knows the dead claim's extent (`marker & SEQUENCE_MASK`) and publishes it aborted.
 */
export const CLAIMED_MARKER_BIT = 0x80000000 | 0;

/** LENGTHS value of a claimed slot that was aborted: consumers skip it. */
export const ABORTED_LENGTH = -1;

/** Int32 index of a field in consumer `consumerIndex`'s region. */
export function consumerFieldIndex(consumerIndex: number, field: number): number {
  return (CONSUMERS_OFFSET_BYTES + consumerIndex * REGION_BYTES) / INT32_BYTES + field;
}

function alignUp(value: number, alignment: number): number {
  return Math.ceil(value / alignment) * alignment;
}

/** Bytes of one slot's payload area: the maximum message rounded up to the payload alignment. */
export function slotStrideBytes(maxMessageBytes: number): number {
  return Math.max(PAYLOAD_ALIGNMENT_BYTES, alignUp(maxMessageBytes, PAYLOAD_ALIGNMENT_BYTES));
}

/** Where each variable-size region starts, for a given geometry. */
export interface RingGeometry {
  readonly capacity: number;
  readonly maxMessageBytes: number;
  readonly slotStrideBytes: number;
  readonly maxConsumers: number;
  readonly producerMode: ProducerModeName;
  readonly availableOffsetBytes: number;
  readonly lengthsOffsetBytes: number;
  readonly dataOffsetBytes: number;
  readonly totalBytes: number;
}

export function computeGeometry(capacity: number, maxMessageBytes: number, maxConsumers: number, producerMode: ProducerModeName): RingGeometry {
  const stride = slotStrideBytes(maxMessageBytes);
  const availableOffsetBytes = CONSUMERS_OFFSET_BYTES + maxConsumers * REGION_BYTES;
  const availableBytes = producerMode === 'multi' ? alignUp(capacity * INT32_BYTES, REGION_BYTES) : 0;
  const lengthsOffsetBytes = availableOffsetBytes + availableBytes;
  const dataOffsetBytes = lengthsOffsetBytes + alignUp(capacity * INT32_BYTES, REGION_BYTES);
  const totalBytes = dataOffsetBytes + capacity * stride;
  return {
    capacity,
    maxMessageBytes,
    slotStrideBytes: stride,
    maxConsumers,
    producerMode,
    availableOffsetBytes,
    lengthsOffsetBytes,
    dataOffsetBytes,
    totalBytes,
  };
}

/** Every int32 index of REGION_INT32S per region is addressable; exported for tests. */
export const INT32S_PER_REGION = REGION_INT32S;
