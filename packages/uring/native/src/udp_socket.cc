// The socket's class, its life cycle (constructor, close(), finalizer), bind/connect and
// socket options. Sends are in udp_send.cc, receives in udp_receive.cc, event-loop delivery
// in loop_watcher.cc, teardown in in_flight.cc.
#include "udp_socket.h"

#include <arpa/inet.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "errors.h"
#include "seam_layout.h"
#include "udp_options.h"

namespace flux {

Napi::Function UdpSocket::Define(Napi::Env env) {
  return DefineClass(env, "UringUdpSocket",
                     {
                         InstanceMethod("bind", &UdpSocket::Bind),
                         InstanceMethod("connect", &UdpSocket::Connect),
                         InstanceMethod("localAddress", &UdpSocket::LocalAddress),
                         InstanceMethod("bufferSizes", &UdpSocket::BufferSizes),
                         InstanceMethod("registerBuffers", &UdpSocket::RegisterBuffers),
                         InstanceMethod("send", &UdpSocket::Send),
                         InstanceMethod("sendTo", &UdpSocket::SendTo),
                         InstanceMethod("poll", &UdpSocket::Poll),
                         InstanceMethod("startReceive", &UdpSocket::StartReceive),
                         InstanceMethod("setSegmentBytes", &UdpSocket::SetSegmentBytes),
                         InstanceMethod("setReceiveCoalescing", &UdpSocket::SetReceiveCoalescing),
                         InstanceMethod("onReady", &UdpSocket::OnReady),
                         InstanceMethod("setRef", &UdpSocket::SetRef),
                         InstanceMethod("stats", &UdpSocket::Stats),
                         InstanceMethod("close", &UdpSocket::Close),
                     });
}

// new UringUdpSocket(family: 4 | 6, entries, maxInFlight, sendBufferBytes?, receiveBufferBytes?, deferTaskRun = true)
UdpSocket::UdpSocket(const Napi::CallbackInfo& info) : Napi::ObjectWrap<UdpSocket>(info), io_(std::make_unique<InFlight>()) {
  Napi::Env env = info.Env();
  env_ = env;
  uint32_t family = RequireUint32(env, info[0], "family", 4, 6);
  if (family != 4 && family != 6) throw FluxRangeError(env, "family must be 4 or 6, got " + std::to_string(family));
  uint32_t entries = RequireUint32(env, info[1], "entries", 8, 32768);
  uint32_t maxInFlight = RequireUint32(env, info[2], "maxInFlight", 1, 65536);
  uint32_t sendBufferBytes =
      info[3].IsUndefined() ? 0 : RequireUint32(env, info[3], "sendBufferBytes", 0, seam::MAX_SOCKET_BUFFER_BYTES);
  uint32_t receiveBufferBytes =
      info[4].IsUndefined() ? 0 : RequireUint32(env, info[4], "receiveBufferBytes", 0, seam::MAX_SOCKET_BUFFER_BYTES);
  if (!info[5].IsUndefined() && !info[5].IsBoolean()) throw FluxTypeError(env, "deferTaskRun must be true or false");
  bool deferTaskRun = info[5].IsUndefined() || info[5].As<Napi::Boolean>().Value();
  family_ = family == 6 ? AF_INET6 : AF_INET;

  // A blocking socket: io_uring tries each operation without waiting and, on EAGAIN, waits
  // for readiness itself (with O_NONBLOCK it would hand EAGAIN back instead).
  int fd = socket(family_, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw SystemError(env, errno, "socket");
  io_->fd = fd;
  // A socket option the kernel refuses fails the constructor, never silently. When the
  // constructor throws, io_ is destroyed with it: ~InFlight closes the socket, ~Uring the ring.
  auto setOption = [&](int level, int name, int value, const char* what) {
    if (setsockopt(fd, level, name, &value, sizeof value) != 0) throw SystemError(env, errno, "setsockopt", what);
  };
  if (family_ == AF_INET6) setOption(IPPROTO_IPV6, IPV6_V6ONLY, 1, "(IPV6_V6ONLY)");
  if (sendBufferBytes > 0) setOption(SOL_SOCKET, SO_SNDBUF, static_cast<int>(sendBufferBytes), "(SO_SNDBUF)");
  if (receiveBufferBytes > 0) setOption(SOL_SOCKET, SO_RCVBUF, static_cast<int>(receiveBufferBytes), "(SO_RCVBUF)");

  // CQ room: a send may post two CQEs (zero copy), and the receive one per datagram.
  uint32_t cqEntries = 4 * entries;
  while (cqEntries < 2 * maxInFlight + entries) cqEntries *= 2;
  int r = io_->ring.Init(entries, cqEntries, deferTaskRun);
  if (r < 0) throw SystemError(env, -r, "io_uring_setup");
  maxInFlight_ = maxInFlight;
  io_->slots.resize(maxInFlight);
  freeSlots_.reserve(maxInFlight);
  for (uint32_t i = maxInFlight; i > 0; i--) freeSlots_.push_back(i - 1);
}

// The finalizer of a socket JavaScript did not close: it never waits for the kernel.
// Whatever is still in flight is handed, with the memory it may touch, to Retire()
// (in_flight.h), which frees it once the kernel is done with it.
UdpSocket::~UdpSocket() {
  std::unique_ptr<InFlight> io = Detach();
  if (io) Retire(env_, std::move(io));
}

std::unique_ptr<InFlight> UdpSocket::Detach() {
  closed_ = true;
  StopReady();
  freeSlots_.clear();
  lent_.clear();
  return std::move(io_);
}

void UdpSocket::CheckOpen(Napi::Env env) const {
  if (closed_) throw FluxStateError(env, "the socket is closed");
}

sockaddr_storage UdpSocket::ParseAddress(Napi::Env env, const Napi::Value& address, const Napi::Value& port,
                                         socklen_t* length) const {
  if (!address.IsString()) throw FluxTypeError(env, "address must be a string");
  std::string text = address.As<Napi::String>().Utf8Value();
  uint32_t portNumber = RequireUint32(env, port, "port", 0, 65535);
  sockaddr_storage storage;
  std::memset(&storage, 0, sizeof storage);
  if (family_ == AF_INET) {
    auto* a = reinterpret_cast<sockaddr_in*>(&storage);
    a->sin_family = AF_INET;
    a->sin_port = htons(static_cast<uint16_t>(portNumber));
    if (inet_pton(AF_INET, text.c_str(), &a->sin_addr) != 1) {
      throw FluxTypeError(env, "address must be an IPv4 address for this socket, got '" + text + "'");
    }
    *length = sizeof(sockaddr_in);
  } else {
    auto* a = reinterpret_cast<sockaddr_in6*>(&storage);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(static_cast<uint16_t>(portNumber));
    if (inet_pton(AF_INET6, text.c_str(), &a->sin6_addr) != 1) {
      throw FluxTypeError(env, "address must be an IPv6 address for this socket, got '" + text + "'");
    }
    *length = sizeof(sockaddr_in6);
  }
  return storage;
}

Napi::Value UdpSocket::Bind(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckOpen(env);
  socklen_t length;
  sockaddr_storage address = ParseAddress(env, info[0], info[1], &length);
  if (bind(io_->fd, reinterpret_cast<sockaddr*>(&address), length) != 0) throw SystemError(env, errno, "bind");
  return LocalAddress(info);
}

Napi::Value UdpSocket::Connect(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckOpen(env);
  socklen_t length;
  sockaddr_storage address = ParseAddress(env, info[0], info[1], &length);
  if (connect(io_->fd, reinterpret_cast<sockaddr*>(&address), length) != 0) throw SystemError(env, errno, "connect");
  return env.Undefined();
}

// bufferSizes(): { sendBufferBytes, receiveBufferBytes } as the kernel reports them
// (getsockopt: Linux doubles what was granted, its bookkeeping share included).
Napi::Value UdpSocket::BufferSizes(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckOpen(env);
  auto get = [&](int name, const char* what) {
    int value = 0;
    socklen_t length = sizeof value;
    if (getsockopt(io_->fd, SOL_SOCKET, name, &value, &length) != 0) throw SystemError(env, errno, "getsockopt", what);
    return value;
  };
  Napi::Object result = Napi::Object::New(env);
  result.Set("sendBufferBytes", get(SO_SNDBUF, "(SO_SNDBUF)"));
  result.Set("receiveBufferBytes", get(SO_RCVBUF, "(SO_RCVBUF)"));
  return result;
}

Napi::Value UdpSocket::LocalAddress(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckOpen(env);
  sockaddr_storage storage;
  socklen_t length = sizeof storage;
  if (getsockname(io_->fd, reinterpret_cast<sockaddr*>(&storage), &length) != 0) throw SystemError(env, errno, "getsockname");
  char text[INET6_ADDRSTRLEN] = {0};
  uint16_t port;
  const char* written;
  if (storage.ss_family == AF_INET6) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&storage);
    written = inet_ntop(AF_INET6, &a->sin6_addr, text, sizeof text);
    port = ntohs(a->sin6_port);
  } else {
    auto* a = reinterpret_cast<sockaddr_in*>(&storage);
    written = inet_ntop(AF_INET, &a->sin_addr, text, sizeof text);
    port = ntohs(a->sin_port);
  }
  if (written == nullptr) throw SystemError(env, errno, "inet_ntop");
  Napi::Object result = Napi::Object::New(env);
  result.Set("address", text);
  result.Set("port", port);
  result.Set("family", storage.ss_family == AF_INET6 ? "IPv6" : "IPv4");
  return result;
}

Napi::Value UdpSocket::SetSegmentBytes(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckOpen(env);
  int bytes = static_cast<int>(RequireUint32(env, info[0], "segmentBytes", 0, 65535));
  if (setsockopt(io_->fd, IPPROTO_UDP, UDP_SEGMENT, &bytes, sizeof bytes) != 0)
    throw SystemError(env, errno, "setsockopt", "(UDP_SEGMENT)");
  return env.Undefined();
}

Napi::Value UdpSocket::SetReceiveCoalescing(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckOpen(env);
  if (receiving_) throw FluxStateError(env, "set receive coalescing before startReceive");
  if (!info[0].IsBoolean()) throw FluxTypeError(env, "enabled must be a boolean");
  int on = info[0].As<Napi::Boolean>().Value() ? 1 : 0;
  if (setsockopt(io_->fd, IPPROTO_UDP, UDP_GRO, &on, sizeof on) != 0) throw SystemError(env, errno, "setsockopt", "(UDP_GRO)");
  coalescing_ = on != 0;
  return env.Undefined();
}

Napi::Value UdpSocket::Stats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object result = Napi::Object::New(env);
  result.Set("sendsInFlight", static_cast<double>(io_ ? maxInFlight_ - freeSlots_.size() : 0));
  result.Set("maxInFlight", static_cast<double>(maxInFlight_));
  result.Set("receivePartsLent", static_cast<double>(lent_.size()));
  result.Set("receiveNoBuffers", receiveNoBuffers_);
  result.Set("receiveRearms", receiveRearms_);
  result.Set("completionQueueOverflows", cqOverflowSeen_);
  result.Set("coalescedSends", coalescedSends_);
  result.Set("coalescedDatagrams", coalescedDatagrams_);
  result.Set("receiveCoalesced", receiveCoalesced_);
  result.Set("closed", closed_);
  return result;
}

// close(): { clean }: waits (at most two seconds) for sends and the receive to finish, then
// closes; clean is false when something was still in flight and its memory was kept alive.
Napi::Value UdpSocket::Close(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object result = Napi::Object::New(env);
  std::unique_ptr<InFlight> io = closed_ ? nullptr : Detach();
  bool clean = true;
  if (io) {
    clean = io->DrainFor(TEARDOWN_BUDGET_NS);
    if (clean)
      io->Release();
    else
      io->Leak();
  }
  result.Set("clean", clean);
  return result;
}

}  // namespace flux
