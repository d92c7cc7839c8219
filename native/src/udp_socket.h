// A UDP socket driven by io_uring. Everything here runs on the JavaScript thread that
// created the socket (a main thread or a worker); nothing runs on a thread of its own.
//
// Sends: JavaScript registers its buffers once (registerBuffers) and then describes each
// datagram as up to two parts of registered buffers (a header and a payload, say). send()
// turns a batch of descriptors into SQEs and submits them with one io_uring_enter. A
// datagram's bytes belong to the kernel from send() until its completion record comes out
// of poll(): for a zero-copy send, that is the kernel's notification, not the first CQE.
//
// Receives: startReceive() lends the kernel a JavaScript buffer cut into equal parts
// (a provided buffer ring) and arms one multishot RECVMSG. Each datagram's record names
// where its payload sits in that buffer; the part is lent to JavaScript until the next
// poll(), which hands it back to the kernel.
//
// Coalesced sends (UDP GSO): consecutive descriptors flagged COALESCE, one part each, of one
// length (the last may be shorter), go out as ONE sendmsg with a UDP_SEGMENT control
// message: the kernel traverses its stack once and cuts the bytes into those datagrams
// (on loopback the receiver gets them whole with UDP_GRO, or cut again without it). Each
// datagram still gets its own SEND record when the send completes.
//
// Records (4 x int32 each) that poll() writes:
//   [SEND=1,  token,      result (bytes or -errno), flags (1: zero-copy fell back to a copy)]
//   [RECV=2,  byteOffset, length,                   flags (1: truncated)]
//   [RECV_ERROR=3, -errno, 0, 0]
#pragma once

#include <napi.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <uv.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "uring.h"

namespace flux {

class UdpSocket : public Napi::ObjectWrap<UdpSocket> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit UdpSocket(const Napi::CallbackInfo& info);
  ~UdpSocket() override;

 private:
  // Datagrams one coalesced send carries at most (the kernel's UDP_MAX_SEGMENTS is 64 or
  // more) and their bytes at most (an IP packet's 64 KiB, less headers, with room to spare).
  static constexpr unsigned MAX_SEGMENTS = 64;
  static constexpr uint32_t MAX_COALESCED_BYTES = 65000;
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
    // allocated the first time this slot coalesces, kept until the socket is destroyed).
    uint32_t segments = 1;
    std::unique_ptr<Coalesced> coalesced;
  };
  struct Registered {
    Napi::Reference<Napi::Value> ref;
    uint8_t* data;
    size_t length;
  };

  Napi::Value Bind(const Napi::CallbackInfo& info);
  Napi::Value Connect(const Napi::CallbackInfo& info);
  Napi::Value LocalAddress(const Napi::CallbackInfo& info);
  Napi::Value RegisterBuffers(const Napi::CallbackInfo& info);
  Napi::Value Send(const Napi::CallbackInfo& info);
  Napi::Value Poll(const Napi::CallbackInfo& info);
  Napi::Value StartReceive(const Napi::CallbackInfo& info);
  Napi::Value SetSegmentBytes(const Napi::CallbackInfo& info);
  Napi::Value SetReceiveCoalescing(const Napi::CallbackInfo& info);
  Napi::Value OnReady(const Napi::CallbackInfo& info);
  Napi::Value SetRef(const Napi::CallbackInfo& info);
  Napi::Value Stats(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);

  void CheckOpen(Napi::Env env) const;
  sockaddr_storage ParseAddress(Napi::Env env, const Napi::Value& address, const Napi::Value& port, socklen_t* length) const;
  void ArmReceive();
  void RecycleLent();
  // Reads CQEs into records (nullptr: discard them); returns records written.
  unsigned Reap(int32_t* records, unsigned capacity);
  void StopReady();
  // Cancels the receive, waits (bounded) for everything in flight; true when nothing is.
  bool Drain(int64_t budgetNs);
  // Drains, closes and releases; false when something stayed in flight (memory kept alive).
  bool Teardown();

  Uring ring_;
  int fd_ = -1;
  int family_ = AF_INET;
  bool closed_ = false;

  std::vector<SendSlot> slots_;
  std::vector<uint32_t> freeSlots_;
  std::vector<std::unique_ptr<Registered>> registered_;

  // Receive: a provided buffer ring over a JavaScript buffer.
  Napi::Reference<Napi::Value> receiveRef_;
  uint8_t* receiveBase_ = nullptr;
  uint32_t receivePartBytes_ = 0;
  uint32_t receiveParts_ = 0;
  io_uring_buf_ring* bufRing_ = nullptr;
  size_t bufRingBytes_ = 0;
  uint16_t bufRingTail_ = 0;
  bool receiving_ = false;
  bool receiveArmed_ = false;
  bool cancelSent_ = false;
  msghdr receiveMsg_{};
  uint32_t payloadOffset_ = 0;
  bool coalescing_ = false;
  std::vector<uint16_t> lent_;

  // Counters.
  double receiveNoBuffers_ = 0;
  double receiveRearms_ = 0;
  double coalescedSends_ = 0;       // sends that carried more than one datagram (GSO)
  double coalescedDatagrams_ = 0;   // datagrams those sends carried
  double receiveCoalesced_ = 0;     // receives the kernel coalesced (GRO), split into datagrams here
  double cqOverflowSeen_ = 0;

  // Event-loop delivery: an eventfd the ring signals, watched by a uv_poll handle.
  int eventFd_ = -1;
  uv_poll_t* readyHandle_ = nullptr;
  Napi::FunctionReference onReady_;
  std::unique_ptr<Napi::AsyncContext> asyncContext_;
  bool refed_ = true;
};

}  // namespace flux
