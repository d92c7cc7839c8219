// What the kernel may still touch while a socket's operations are in flight (the ring, the
// socket, the send slots' msghdr and iovecs, the registered buffers, the receive buffer and
// its provided-buffer ring), and how it is torn down once nothing is in flight.
//
// A UdpSocket owns one InFlight from its constructor until close() or its finalizer; then
// the InFlight is detached from the JavaScript object and outlives it:
//
//   close()      DrainFor(2 s) on the calling thread, then Release() or Leak().
//   finalizer    CancelReceive() and one Step() without waiting; idle: Release(). Otherwise
//                RetireOnLoop(): a uv timer on this thread's event loop Step()s every
//                millisecond until idle (Release) or two seconds have passed (Leak). The
//                finalizer itself never waits for the kernel.
//   env teardown a worker or the process is ending: the hook installed by
//                InstallTeardownHook() drains every retired InFlight of this thread
//                (bounded, as close() does), because no further event-loop turn will come.
//
// Release() frees only after every operation has its final CQE; Leak() keeps every byte the
// kernel might touch alive for the life of the process. See SAFETY.md, "@flux/uring".
#pragma once

#include <napi.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "uring.h"

namespace flux {

// user_data: kind in the top byte, slot index in the low 32 bits.
constexpr uint64_t KIND_SEND = 1ull << 56;
constexpr uint64_t KIND_RECV = 2ull << 56;
constexpr uint64_t KIND_CANCEL = 3ull << 56;
constexpr uint64_t KIND_MASK = 0xffull << 56;
constexpr uint64_t SLOT_MASK = 0xffffffffull;

// The provided buffer group of the receive parts.
constexpr uint16_t BUFFER_GROUP = 0;

// What close() and a forgotten socket's teardown wait for at most.
constexpr int64_t TEARDOWN_BUDGET_NS = 2000000000;  // two seconds

// Datagrams one coalesced send carries at most (the kernel's UDP_MAX_SEGMENTS is 64 or
// more) and their bytes at most (an IP packet's 64 KiB, less headers, with room to spare).
constexpr unsigned MAX_SEGMENTS = 64;
constexpr uint32_t MAX_COALESCED_BYTES = 65000;

struct Coalesced {
  uint32_t tokens[MAX_SEGMENTS];
  uint32_t lengths[MAX_SEGMENTS];
  iovec iov[MAX_SEGMENTS];
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(uint16_t))];
};

struct SendSlot {
  uint32_t token = 0;
  int32_t result = 0;
  bool busy = false;
  bool zeroCopyCopied = false;
  msghdr msg{};
  iovec iov[2]{};
  // Datagrams in this send: 1, or more for a coalesced send (then `coalesced` holds them;
  // allocated the first time this slot coalesces, kept until the InFlight is freed).
  uint32_t segments = 1;
  std::unique_ptr<Coalesced> coalesced;
};

struct Registered {
  Napi::Reference<Napi::Value> ref;
  uint8_t* data;
  size_t length;
};

// Heap-allocated and never moved: the kernel holds addresses into `slots` (msghdr, iovecs)
// and `receiveMsg` while operations are in flight.
struct InFlight {
  InFlight() = default;
  InFlight(const InFlight&) = delete;
  InFlight& operator=(const InFlight&) = delete;
  // Reached with fd >= 0 only when the socket's constructor threw (nothing in flight yet);
  // close()'s result cannot be reported from a destructor.
  ~InFlight() {
    if (fd >= 0) (void)::close(fd);
  }

  Uring ring;
  int fd = -1;
  std::vector<SendSlot> slots;
  std::vector<std::unique_ptr<Registered>> registered;
  // Receive: a provided buffer ring over a JavaScript buffer.
  Napi::Reference<Napi::Value> receiveRef;
  io_uring_buf_ring* bufRing = nullptr;
  size_t bufRingBytes = 0;
  msghdr receiveMsg{};
  bool receiveArmed = false;
  bool cancelSent = false;

  // Queues (once) an ASYNC_CANCEL of the multishot receive.
  void CancelReceive();
  // Submits what is queued, posts completions without waiting and reads them; true when
  // nothing is in flight any more.
  bool Step();
  // Step()s, waiting in bounded kernel waits, for at most budgetNs; true when idle.
  bool DrainFor(int64_t budgetNs);
  // Nothing in flight: closes the socket and the ring, frees the buffer ring, drops the
  // references to the JavaScript buffers.
  void Release();
  // Something may still be in flight: closes the socket and the ring (the kernel cancels
  // what is left) and keeps every buffer the kernel might touch alive for good.
  void Leak();

 private:
  // Reads every ready CQE, marks finished sends and the receive's end; reports nothing.
  void Discard();
  bool Idle() const;
};

// The finalizer's path: never waits. Releases `inFlight` now when it is idle, else hands it
// to a timer on `env`'s event loop (or, while the environment is being torn down, drains it
// here, bounded).
void Retire(napi_env env, std::unique_ptr<InFlight> inFlight);

// Registers, once per environment (at module init), the hook that drains what Retire()
// handed to the event loop when the environment ends.
void InstallTeardownHook(napi_env env);

}  // namespace flux
