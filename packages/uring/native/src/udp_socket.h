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
// sendTo(): one datagram to an address, by a plain sendto(2) outside the ring that never
// waits (MSG_DONTWAIT): for an unbound-peer socket's rare answers (a reliable receiver's
// STATUS and NAK frames to each sender), where a ring send would need an address per SQE.
//
// Coalesced sends (UDP GSO): consecutive descriptors flagged COALESCE, one part each, of one
// length (the last may be shorter), go out as ONE sendmsg with a UDP_SEGMENT control
// message: the kernel traverses its stack once and cuts the bytes into those datagrams
// (on loopback the receiver gets them whole with UDP_GRO, or cut again without it). Each
// datagram still gets its own SEND record when the send completes.
//
// The descriptors send() reads and the records poll() writes are laid out in
// seam_layout.h (and, for JavaScript, packages/uring/src/seam-layout.ts).
//
// Files: udp_socket.cc (the class, its life cycle, bind/connect, options), udp_send.cc
// (registerBuffers, send), udp_receive.cc (startReceive, poll, records), loop_watcher.cc
// (onReady: the eventfd libuv watches), in_flight.{h,cc} (what the kernel may still touch,
// and its teardown).
#pragma once

#include <napi.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <uv.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "in_flight.h"
#include "uring.h"

namespace flux {

class UdpSocket : public Napi::ObjectWrap<UdpSocket> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit UdpSocket(const Napi::CallbackInfo& info);
  ~UdpSocket() override;

 private:
  Napi::Value Bind(const Napi::CallbackInfo& info);
  Napi::Value Connect(const Napi::CallbackInfo& info);
  Napi::Value LocalAddress(const Napi::CallbackInfo& info);
  Napi::Value BufferSizes(const Napi::CallbackInfo& info);
  Napi::Value RegisterBuffers(const Napi::CallbackInfo& info);
  Napi::Value Send(const Napi::CallbackInfo& info);
  Napi::Value SendTo(const Napi::CallbackInfo& info);
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
  // Send (udp_send.cc).
  void CheckDescriptors(Napi::Env env, const uint32_t* descriptors, uint32_t count) const;
  // Datagrams from `first` (of `count`) that go in one coalesced send: 1 when it does not coalesce.
  uint32_t CoalescedRun(const uint32_t* descriptors, uint32_t first, uint32_t count) const;
  void PrepareCoalesced(io_uring_sqe* sqe, SendSlot& slot, const uint32_t* descriptors, uint32_t run);
  void PrepareSingle(io_uring_sqe* sqe, SendSlot& slot, const uint32_t* descriptor);
  // Receive (udp_receive.cc).
  void ArmReceive();
  void RecycleLent();
  // Reads CQEs into records; returns records written.
  unsigned Reap(int32_t* records, unsigned capacity);
  // Writes the SEND records of a finished send; false when they do not fit.
  bool WriteSendRecords(const SendSlot& slot, int32_t* records, unsigned capacity, unsigned* written);
  // Writes the RECV records of one received datagram (several for a GRO receive); false when they do not fit.
  bool WriteReceiveRecords(const io_uring_cqe* cqe, int32_t* records, unsigned capacity, unsigned* written);
  // Event-loop delivery (loop_watcher.cc).
  static void OnEventFdReadable(uv_poll_t* handle, int status, int events);
  void StopReady();
  // Marks the socket closed and detaches what the kernel may still touch from it.
  std::unique_ptr<InFlight> Detach();

  // What the kernel may touch (null once closed): see in_flight.h.
  std::unique_ptr<InFlight> io_;
  napi_env env_ = nullptr;
  int family_ = AF_INET;
  bool closed_ = false;
  uint32_t maxInFlight_ = 0;

  std::vector<uint32_t> freeSlots_;

  // Receive: the parts of the JavaScript buffer (referenced by io_->receiveRef).
  uint8_t* receiveBase_ = nullptr;
  uint32_t receivePartBytes_ = 0;
  uint32_t receiveParts_ = 0;
  uint16_t bufRingTail_ = 0;
  bool receiving_ = false;
  uint32_t payloadOffset_ = 0;
  bool coalescing_ = false;
  std::vector<uint16_t> lent_;

  // Counters.
  double receiveNoBuffers_ = 0;
  double receiveRearms_ = 0;
  double coalescedSends_ = 0;      // sends that carried more than one datagram (GSO)
  double coalescedDatagrams_ = 0;  // datagrams those sends carried
  double receiveCoalesced_ = 0;    // receives the kernel coalesced (GRO), split into datagrams here
  double cqOverflowSeen_ = 0;

  // Event-loop delivery: an eventfd the ring signals, watched by a uv_poll handle.
  int eventFd_ = -1;
  uv_poll_t* readyHandle_ = nullptr;
  Napi::FunctionReference onReady_;
  std::unique_ptr<Napi::AsyncContext> asyncContext_;
  bool refed_ = true;
};

}  // namespace flux
