// The JavaScript <-> C++ seam: every word offset and stride of the arrays the addon and
// packages/uring exchange, and the bounds both sides check. Constants only. Its twin is
// packages/uring/src/seam-layout.ts; the addon exports these values (seamLayout(), built in
// seam_layout.cc) and packages/uring/test/seam-layout.test.ts fails when the two disagree.
// Change both files together.
//
// Send descriptors: JavaScript writes them into a Uint32Array, send() reads them. One
// datagram is up to two parts of registered buffers (part 1 absent when its length is 0):
//
//   word  0          1          2          3          4          5          6          7
//        +----------+----------+----------+----------+----------+----------+----------+----------+
//        |  token   | buffer0  |  start0  | length0  | buffer1  |  start1  | length1  |  flags   |
//        +----------+----------+----------+----------+----------+----------+----------+----------+
//                   |<------ part 0 ------------------>|<------ part 1 ------------------>|
//
//   bufferN: index into registerBuffers()'s list; startN: byte offset in that buffer;
//   lengthN: bytes. flags: SEND_FLAG_ZERO_COPY | SEND_FLAG_COALESCE, nothing else.
//
// Completion records: poll() writes them into an Int32Array, JavaScript reads them. The
// first word is the kind; the other three depend on it:
//
//   word  0             1                2                          3
//        +-------------+----------------+--------------------------+---------------------------+
//        | SEND        | token          | result (bytes or -errno) | flags (1: zero copy fell  |
//        |             |                |                          |  back to a copy)          |
//        +-------------+----------------+--------------------------+---------------------------+
//        | RECV        | start (byte    | length (bytes)           | flags (1: truncated)      |
//        |             |  offset in the |                          |                           |
//        |             |  receive area) |                          |                           |
//        +-------------+----------------+--------------------------+---------------------------+
//        | RECV_ERROR  | -errno         | 0                        | 0                         |
//        +-------------+----------------+--------------------------+---------------------------+
//
// Receive parts (bytes, not words; the native side alone reads the header, JavaScript gets
// the payload offset from startReceive() and RECV records point past it):
//
//   +-----------------------+---------------------+------------------------+-----------+
//   | io_uring_recvmsg_out  | sender sockaddr_in6 | UDP_GRO cmsg (if GRO)  | payload...|
//   +-----------------------+---------------------+------------------------+-----------+
//
// Capabilities and statistics cross as objects with named properties (capability(),
// stats()), not as word arrays: nothing to lay out there.
#pragma once

#include <cstdint>

namespace flux {
namespace seam {

// ---- send descriptor: uint32 words ---------------------------------------------------------
constexpr uint32_t DESCRIPTOR_TOKEN_OFFSET = 0;
constexpr uint32_t DESCRIPTOR_BUFFER0_OFFSET = DESCRIPTOR_TOKEN_OFFSET + 1;
constexpr uint32_t DESCRIPTOR_START0_OFFSET = DESCRIPTOR_BUFFER0_OFFSET + 1;
constexpr uint32_t DESCRIPTOR_LENGTH0_OFFSET = DESCRIPTOR_START0_OFFSET + 1;
constexpr uint32_t DESCRIPTOR_BUFFER1_OFFSET = DESCRIPTOR_LENGTH0_OFFSET + 1;
constexpr uint32_t DESCRIPTOR_START1_OFFSET = DESCRIPTOR_BUFFER1_OFFSET + 1;
constexpr uint32_t DESCRIPTOR_LENGTH1_OFFSET = DESCRIPTOR_START1_OFFSET + 1;
constexpr uint32_t DESCRIPTOR_FLAGS_OFFSET = DESCRIPTOR_LENGTH1_OFFSET + 1;
// Stride of one descriptor.
constexpr uint32_t DESCRIPTOR_UINT32S = DESCRIPTOR_FLAGS_OFFSET + 1;
// Stride from part 0's words to part 1's (buffer, start, length).
constexpr uint32_t DESCRIPTOR_PART_UINT32S = DESCRIPTOR_BUFFER1_OFFSET - DESCRIPTOR_BUFFER0_OFFSET;
// Parts per descriptor.
constexpr uint32_t DESCRIPTOR_PARTS = 2;

// Descriptor flags.
constexpr uint32_t SEND_FLAG_ZERO_COPY = 1;
// May share one GSO sendmsg with its neighbours (see udp_socket.h).
constexpr uint32_t SEND_FLAG_COALESCE = SEND_FLAG_ZERO_COPY << 1;
// Any other bit is refused.
constexpr uint32_t KNOWN_SEND_FLAGS = SEND_FLAG_ZERO_COPY | SEND_FLAG_COALESCE;

// ---- completion record: int32 words --------------------------------------------------------
constexpr uint32_t RECORD_KIND_OFFSET = 0;
// SEND records.
constexpr uint32_t RECORD_SEND_TOKEN_OFFSET = RECORD_KIND_OFFSET + 1;
constexpr uint32_t RECORD_SEND_RESULT_OFFSET = RECORD_SEND_TOKEN_OFFSET + 1;
constexpr uint32_t RECORD_SEND_FLAGS_OFFSET = RECORD_SEND_RESULT_OFFSET + 1;
// RECV records.
constexpr uint32_t RECORD_RECV_START_OFFSET = RECORD_KIND_OFFSET + 1;
constexpr uint32_t RECORD_RECV_LENGTH_OFFSET = RECORD_RECV_START_OFFSET + 1;
constexpr uint32_t RECORD_RECV_FLAGS_OFFSET = RECORD_RECV_LENGTH_OFFSET + 1;
// RECV_ERROR records (the other words are 0).
constexpr uint32_t RECORD_RECV_ERROR_ERRNO_OFFSET = RECORD_KIND_OFFSET + 1;
// Stride of one record (every kind fits).
constexpr uint32_t RECORD_INT32S = RECORD_SEND_FLAGS_OFFSET + 1;
static_assert(RECORD_RECV_FLAGS_OFFSET < RECORD_INT32S, "a RECV record fits the stride");
static_assert(RECORD_RECV_ERROR_ERRNO_OFFSET < RECORD_INT32S, "a RECV_ERROR record fits the stride");

// Record kinds (word RECORD_KIND_OFFSET).
constexpr int32_t RECORD_KIND_SEND = 1;
constexpr int32_t RECORD_KIND_RECV = RECORD_KIND_SEND + 1;
constexpr int32_t RECORD_KIND_RECV_ERROR = RECORD_KIND_RECV + 1;

// Record flags (word RECORD_SEND_FLAGS_OFFSET / RECORD_RECV_FLAGS_OFFSET).
constexpr int32_t RECORD_SEND_FLAG_ZERO_COPY_COPIED = 1;
constexpr int32_t RECORD_RECV_FLAG_TRUNCATED = 1;

// ---- receive parts: bytes ----------------------------------------------------------------
// A part is [io_uring_recvmsg_out | sender address (sockaddr_in or sockaddr_in6) | UDP_GRO
// cmsg | payload]. The sender's address starts this many bytes into the part (after the
// 16-byte io_uring_recvmsg_out), in the kernel's sockaddr layout: family (uint16, host
// order), port (uint16, network order), then the IPv4 address at +4 or the IPv6 address
// at +8. A reliable receiver reads it there to answer each sender.
constexpr uint32_t RECEIVE_PART_NAME_OFFSET = 16;
// Its family word's values (AF_INET, AF_INET6 on Linux).
constexpr uint32_t RECEIVE_NAME_FAMILY_IPV4 = 2;
constexpr uint32_t RECEIVE_NAME_FAMILY_IPV6 = 10;

// ---- futex waits on shared memory (shared_memory.cc) ----------------------------------------
// futexWait / futexWaitAsync results: woken (or a signal: re-check), the word no longer
// held the expected value, the timeout passed.
constexpr uint32_t FUTEX_RESULT_OK = 0;
constexpr uint32_t FUTEX_RESULT_NOT_EQUAL = 1;
constexpr uint32_t FUTEX_RESULT_TIMED_OUT = 2;

// ---- bounds both sides check ---------------------------------------------------------------
// Descriptors per send() call.
constexpr uint32_t MAX_SEND_COUNT = 1u << 20;
// Longest poll() wait: about 4 seconds.
constexpr uint32_t MAX_WAIT_NS = 4000000000u;
// SO_SNDBUF / SO_RCVBUF.
constexpr uint32_t MAX_SOCKET_BUFFER_BYTES = 1u << 30;

}  // namespace seam
}  // namespace flux

// seamLayout(): these constants as one frozen object (seam_layout.cc). Declared apart from
// them so that the constants need no Node-API header.
namespace Napi {
class Value;
class CallbackInfo;
}  // namespace Napi
namespace flux {
Napi::Value SeamLayout(const Napi::CallbackInfo& info);
}  // namespace flux
