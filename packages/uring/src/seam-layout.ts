/**
 * The JavaScript <-> C++ seam: every word offset and stride of the arrays this package and
 * the addon exchange, and the bounds both sides check. Constants only. Its twin is
 * `native/src/seam_layout.h`; the addon exports those values (`seamLayout()`) and
 * `test/seam-layout.test.ts` fails when the two disagree. Change both files together.
 *
 * Send descriptors: JavaScript writes them into a Uint32Array, `send()` reads them. One
 * datagram is up to two parts of registered buffers (part 1 absent when its length is 0):
 *
 * ```
 *  word  0          1          2          3          4          5          6          7
 *       ┌──────────┬──────────┬──────────┬──────────┬──────────┬──────────┬──────────┬──────────┐
 *       │  token   │ buffer0  │  start0  │ length0  │ buffer1  │  start1  │ length1  │  flags   │
 *       └──────────┴──────────┴──────────┴──────────┴──────────┴──────────┴──────────┴──────────┘
 *                  │◄───────── part 0 ─────────────►│◄───────── part 1 ─────────────►│
 * ```
 *
 * `bufferN`: index into `registerBuffers()`'s list; `startN`: byte offset in that buffer;
 * `lengthN`: bytes. `flags`: `SendFlag.ZERO_COPY | SendFlag.COALESCE`, nothing else.
 *
 * Completion records: `poll()` writes them into an Int32Array, JavaScript reads them. The
 * first word is the kind; the other three depend on it:
 *
 * ```
 *  word  0             1                  2                          3
 *       ┌─────────────┬──────────────────┬──────────────────────────┬────────────────────────────┐
 *       │ SEND        │ token            │ result (bytes or -errno) │ flags (1: zero copy fell   │
 *       │             │                  │                          │  back to a copy)           │
 *       ├─────────────┼──────────────────┼──────────────────────────┼────────────────────────────┤
 *       │ RECV        │ start (byte      │ length (bytes)           │ flags (1: truncated)       │
 *       │             │  offset in the   │                          │                            │
 *       │             │  receive area)   │                          │                            │
 *       ├─────────────┼──────────────────┼──────────────────────────┼────────────────────────────┤
 *       │ RECV_ERROR  │ -errno           │ 0                        │ 0                          │
 *       └─────────────┴──────────────────┴──────────────────────────┴────────────────────────────┘
 * ```
 *
 * Receive parts hold `[io_uring_recvmsg_out | sender address | UDP_GRO cmsg | payload]`; only
 * the addon reads the header: `startReceive()` returns the payload offset and RECV records
 * point past it. Capabilities and statistics cross as objects with named properties
 * (`capability()`, `stats()`), not as word arrays: nothing to lay out there.
 */

// ---- send descriptor: uint32 words ---------------------------------------------------------
export const DESCRIPTOR_TOKEN_OFFSET = 0;
export const DESCRIPTOR_BUFFER0_OFFSET = DESCRIPTOR_TOKEN_OFFSET + 1;
export const DESCRIPTOR_START0_OFFSET = DESCRIPTOR_BUFFER0_OFFSET + 1;
export const DESCRIPTOR_LENGTH0_OFFSET = DESCRIPTOR_START0_OFFSET + 1;
export const DESCRIPTOR_BUFFER1_OFFSET = DESCRIPTOR_LENGTH0_OFFSET + 1;
export const DESCRIPTOR_START1_OFFSET = DESCRIPTOR_BUFFER1_OFFSET + 1;
export const DESCRIPTOR_LENGTH1_OFFSET = DESCRIPTOR_START1_OFFSET + 1;
export const DESCRIPTOR_FLAGS_OFFSET = DESCRIPTOR_LENGTH1_OFFSET + 1;
/** Stride of one send descriptor: 8 x uint32. */
export const DESCRIPTOR_UINT32S = DESCRIPTOR_FLAGS_OFFSET + 1;
/** Stride from part 0's words to part 1's (buffer, start, length). */
export const DESCRIPTOR_PART_UINT32S = DESCRIPTOR_BUFFER1_OFFSET - DESCRIPTOR_BUFFER0_OFFSET;
/** Parts per descriptor. */
export const DESCRIPTOR_PARTS = 2;

/**
 * Descriptor flags. ZERO_COPY: send from the registered pages (large datagrams). COALESCE:
 * may go out in one UDP GSO sendmsg with neighbouring COALESCE descriptors of one part and
 * one length (the last may be shorter); each datagram still gets its own SEND record.
 */
export const SEND_FLAG_ZERO_COPY = 1;
export const SEND_FLAG_COALESCE = SEND_FLAG_ZERO_COPY << 1;
/** Any other bit is a FluxRangeError. */
export const KNOWN_SEND_FLAGS = SEND_FLAG_ZERO_COPY | SEND_FLAG_COALESCE;

// ---- completion record: int32 words --------------------------------------------------------
export const RECORD_KIND_OFFSET = 0;
// SEND records.
export const RECORD_SEND_TOKEN_OFFSET = RECORD_KIND_OFFSET + 1;
export const RECORD_SEND_RESULT_OFFSET = RECORD_SEND_TOKEN_OFFSET + 1;
export const RECORD_SEND_FLAGS_OFFSET = RECORD_SEND_RESULT_OFFSET + 1;
// RECV records.
export const RECORD_RECV_START_OFFSET = RECORD_KIND_OFFSET + 1;
export const RECORD_RECV_LENGTH_OFFSET = RECORD_RECV_START_OFFSET + 1;
export const RECORD_RECV_FLAGS_OFFSET = RECORD_RECV_LENGTH_OFFSET + 1;
/** RECV_ERROR records (the other words are 0). */
export const RECORD_RECV_ERROR_ERRNO_OFFSET = RECORD_KIND_OFFSET + 1;
/** Stride of one completion record: 4 x int32 (every kind fits). */
export const RECORD_INT32S = RECORD_SEND_FLAGS_OFFSET + 1;

/** Record kinds (word RECORD_KIND_OFFSET). */
export const RECORD_KIND_SEND = 1;
export const RECORD_KIND_RECV = RECORD_KIND_SEND + 1;
export const RECORD_KIND_RECV_ERROR = RECORD_KIND_RECV + 1;

/** Record flags (word RECORD_SEND_FLAGS_OFFSET / RECORD_RECV_FLAGS_OFFSET). */
export const RECORD_SEND_FLAG_ZERO_COPY_COPIED = 1;
export const RECORD_RECV_FLAG_TRUNCATED = 1;

// ---- receive parts: bytes ----------------------------------------------------------------
/**
 * A part is [io_uring_recvmsg_out | sender address | UDP_GRO cmsg | payload]; the sender's
 * address starts this many bytes into the part, as the kernel's sockaddr: family (uint16,
 * host order), port (uint16, network order), the IPv4 address at +4 or the IPv6 address at +8.
 */
export const RECEIVE_PART_NAME_OFFSET = 16;
/** Its family word's values (AF_INET, AF_INET6 on Linux). */
export const RECEIVE_NAME_FAMILY_IPV4 = 2;
export const RECEIVE_NAME_FAMILY_IPV6 = 10;

// ---- futex waits on shared memory (shared_memory.cc) ----------------------------------------
/** futexWait / futexWaitAsync results: woken (or a signal: re-check), the word no longer held the expected value, the timeout passed. */
export const FUTEX_RESULT_OK = 0;
export const FUTEX_RESULT_NOT_EQUAL = 1;
export const FUTEX_RESULT_TIMED_OUT = 2;

// ---- bounds both sides check ---------------------------------------------------------------
/** Descriptors per send() call. */
export const MAX_SEND_COUNT = 1 << 20;
/** Longest poll() wait: about 4 seconds. */
export const MAX_WAIT_NS = 4_000_000_000;
/** SO_SNDBUF / SO_RCVBUF. */
export const MAX_SOCKET_BUFFER_BYTES = 2 ** 30;
