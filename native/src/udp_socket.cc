#include "udp_socket.h"

#include <arpa/inet.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <string>

#include "errors.h"
#include "udp_options.h"


namespace flux {

namespace {

// user_data: kind in the top byte, slot index in the low 32 bits.
constexpr uint64_t KIND_SEND = 1ull << 56;
constexpr uint64_t KIND_RECV = 2ull << 56;
constexpr uint64_t KIND_CANCEL = 3ull << 56;
constexpr uint64_t KIND_MASK = 0xffull << 56;

constexpr int32_t RECORD_SEND = 1;
constexpr int32_t RECORD_RECV = 2;
constexpr int32_t RECORD_RECV_ERROR = 3;
constexpr unsigned RECORD_INT32S = 4;

// Descriptor: 8 x uint32 per datagram.
//   [token, buffer0, offset0, length0, buffer1, offset1, length1, flags]
constexpr unsigned DESCRIPTOR_UINT32S = 8;
constexpr uint32_t SEND_ZERO_COPY = 1;
constexpr uint32_t SEND_COALESCE = 2;  // may share one GSO sendmsg with its neighbours (see udp_socket.h)
constexpr uint32_t KNOWN_SEND_FLAGS = SEND_ZERO_COPY | SEND_COALESCE;  // any other bit is refused
constexpr unsigned DESCRIPTOR_FLAGS_INDEX = 7;

constexpr uint16_t BUFFER_GROUP = 0;
constexpr size_t MAX_REGISTERED_BYTES = 1ull << 30;  // the kernel's limit per registered buffer

int64_t NowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

uint32_t RequireUint32(Napi::Env env, const Napi::Value& value, const char* name, uint32_t min, uint32_t max) {
  if (!value.IsNumber()) throw FluxTypeError(env, std::string(name) + " must be a number");
  double d = value.As<Napi::Number>().DoubleValue();
  if (!(d >= min && d <= max) || d != static_cast<double>(static_cast<uint64_t>(d))) {
    throw FluxRangeError(env, std::string(name) + " must be an integer from " + std::to_string(min) + " to " +
                                         std::to_string(max) + ", got " + value.ToString().Utf8Value());
  }
  return static_cast<uint32_t>(d);
}

void OnReadyClosed(uv_handle_t* handle) { delete reinterpret_cast<uv_poll_t*>(handle); }

}  // namespace

Napi::Function UdpSocket::Define(Napi::Env env) {
  return DefineClass(env, "UringUdpSocket",
                     {
                         InstanceMethod("bind", &UdpSocket::Bind),
                         InstanceMethod("connect", &UdpSocket::Connect),
                         InstanceMethod("localAddress", &UdpSocket::LocalAddress),
                         InstanceMethod("registerBuffers", &UdpSocket::RegisterBuffers),
                         InstanceMethod("send", &UdpSocket::Send),
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
UdpSocket::UdpSocket(const Napi::CallbackInfo& info) : Napi::ObjectWrap<UdpSocket>(info) {
  Napi::Env env = info.Env();
  uint32_t family = RequireUint32(env, info[0], "family", 4, 6);
  if (family != 4 && family != 6) throw FluxRangeError(env, "family must be 4 or 6, got " + std::to_string(family));
  uint32_t entries = RequireUint32(env, info[1], "entries", 8, 32768);
  uint32_t maxInFlight = RequireUint32(env, info[2], "maxInFlight", 1, 65536);
  uint32_t sendBufferBytes = info[3].IsUndefined() ? 0 : RequireUint32(env, info[3], "sendBufferBytes", 0, 1u << 30);
  uint32_t receiveBufferBytes = info[4].IsUndefined() ? 0 : RequireUint32(env, info[4], "receiveBufferBytes", 0, 1u << 30);
  if (!info[5].IsUndefined() && !info[5].IsBoolean()) throw FluxTypeError(env, "deferTaskRun must be true or false");
  bool deferTaskRun = info[5].IsUndefined() || info[5].As<Napi::Boolean>().Value();
  family_ = family == 6 ? AF_INET6 : AF_INET;

  // A blocking socket: io_uring tries each operation without waiting and, on EAGAIN, waits
  // for readiness itself (with O_NONBLOCK it would hand EAGAIN back instead).
  fd_ = socket(family_, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) throw SystemError(env, errno, "socket");
  // A socket option the kernel refuses fails the constructor (the socket closed), never silently.
  auto setOption = [&](int level, int name, int value, const char* what) {
    if (setsockopt(fd_, level, name, &value, sizeof value) == 0) return;
    int error = errno;
    close(fd_);
    fd_ = -1;
    throw SystemError(env, error, "setsockopt", what);
  };
  if (family_ == AF_INET6) setOption(IPPROTO_IPV6, IPV6_V6ONLY, 1, "(IPV6_V6ONLY)");
  if (sendBufferBytes > 0) setOption(SOL_SOCKET, SO_SNDBUF, static_cast<int>(sendBufferBytes), "(SO_SNDBUF)");
  if (receiveBufferBytes > 0) setOption(SOL_SOCKET, SO_RCVBUF, static_cast<int>(receiveBufferBytes), "(SO_RCVBUF)");

  // CQ room: a send may post two CQEs (zero copy), and the receive one per datagram.
  uint32_t cqEntries = 4 * entries;
  while (cqEntries < 2 * maxInFlight + entries) cqEntries *= 2;
  int r = ring_.Init(entries, cqEntries, deferTaskRun);
  if (r < 0) {
    close(fd_);
    fd_ = -1;
    throw SystemError(env, -r, "io_uring_setup");
  }
  slots_.resize(maxInFlight);
  freeSlots_.reserve(maxInFlight);
  for (uint32_t i = maxInFlight; i > 0; i--) freeSlots_.push_back(i - 1);
}

UdpSocket::~UdpSocket() {
  if (!closed_) Teardown();
}

void UdpSocket::CheckOpen(Napi::Env env) const {
  if (closed_) throw FluxStateError(env, "the socket is closed");
}

sockaddr_storage UdpSocket::ParseAddress(Napi::Env env, const Napi::Value& address, const Napi::Value& port, socklen_t* length) const {
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
  if (bind(fd_, reinterpret_cast<sockaddr*>(&address), length) != 0) throw SystemError(env, errno, "bind");
  return LocalAddress(info);
}

Napi::Value UdpSocket::Connect(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckOpen(env);
  socklen_t length;
  sockaddr_storage address = ParseAddress(env, info[0], info[1], &length);
  if (connect(fd_, reinterpret_cast<sockaddr*>(&address), length) != 0) throw SystemError(env, errno, "connect");
  return env.Undefined();
}

Napi::Value UdpSocket::LocalAddress(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckOpen(env);
  sockaddr_storage storage;
  socklen_t length = sizeof storage;
  if (getsockname(fd_, reinterpret_cast<sockaddr*>(&storage), &length) != 0) throw SystemError(env, errno, "getsockname");
  char text[INET6_ADDRSTRLEN] = {0};
  uint16_t port;
  if (storage.ss_family == AF_INET6) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&storage);
    inet_ntop(AF_INET6, &a->sin6_addr, text, sizeof text);
    port = ntohs(a->sin6_port);
  } else {
    auto* a = reinterpret_cast<sockaddr_in*>(&storage);
    inet_ntop(AF_INET, &a->sin_addr, text, sizeof text);
    port = ntohs(a->sin_port);
  }
  Napi::Object result = Napi::Object::New(env);
  result.Set("address", text);
  result.Set("port", port);
  result.Set("family", storage.ss_family == AF_INET6 ? "IPv6" : "IPv4");
  return result;
}

// registerBuffers(buffers: ArrayBufferView[]): registers them with the kernel (once per
// socket) and keeps a strong reference to each until the socket is closed and nothing in
// flight can touch them.
Napi::Value UdpSocket::RegisterBuffers(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckOpen(env);
  if (!registered_.empty()) throw FluxStateError(env, "buffers are already registered (registerBuffers is called once per socket)");
  if (!info[0].IsArray()) throw FluxTypeError(env, "buffers must be an array of TypedArrays");
  Napi::Array list = info[0].As<Napi::Array>();
  uint32_t count = list.Length();
  if (count < 1 || count > 1024) throw FluxRangeError(env, "buffers must hold 1 to 1024 buffers, got " + std::to_string(count));
  std::vector<iovec> iovecs;
  std::vector<std::unique_ptr<Registered>> pending;
  for (uint32_t i = 0; i < count; i++) {
    Napi::Value value = list.Get(i);
    std::string name = "buffers[" + std::to_string(i) + "]";
    Bytes bytes = BytesOf(env, value, name.c_str());
    if (bytes.length == 0 || bytes.length > MAX_REGISTERED_BYTES) {
      throw FluxRangeError(env, name + " must be 1 byte to 1 GiB long, got " + std::to_string(bytes.length));
    }
    iovecs.push_back(iovec{bytes.data, bytes.length});
    auto entry = std::make_unique<Registered>();
    entry->ref = Napi::Reference<Napi::Value>::New(value, 1);
    entry->data = bytes.data;
    entry->length = bytes.length;
    pending.push_back(std::move(entry));
  }
  int r = SysRegister(ring_.fd(), IORING_REGISTER_BUFFERS, iovecs.data(), count);
  if (r < 0) throw SystemError(env, -r, "io_uring_register", "(IORING_REGISTER_BUFFERS)");
  registered_ = std::move(pending);
  return Napi::Number::New(env, count);
}

// send(descriptors: Uint32Array, count: number): number of datagrams accepted (from the
// first; fewer than count when the in-flight limit or the SQ is reached: back-pressure).
Napi::Value UdpSocket::Send(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckOpen(env);
  if (!info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_uint32_array) {
    throw FluxTypeError(env, "descriptors must be a Uint32Array");
  }
  Napi::Uint32Array descriptors = info[0].As<Napi::Uint32Array>();
  uint32_t count = RequireUint32(env, info[1], "count", 0, 1u << 20);
  if (static_cast<size_t>(count) * DESCRIPTOR_UINT32S > descriptors.ElementLength()) {
    throw FluxRangeError(env, "count " + std::to_string(count) + " needs " + std::to_string(count * DESCRIPTOR_UINT32S) +
                                         " descriptor words, the array has " + std::to_string(descriptors.ElementLength()));
  }
  const uint32_t* d = descriptors.Data();
  // Check every descriptor before queueing any.
  for (uint32_t i = 0; i < count; i++) {
    const uint32_t* one = d + i * DESCRIPTOR_UINT32S;
    uint32_t flags = one[DESCRIPTOR_FLAGS_INDEX];
    if ((flags & ~KNOWN_SEND_FLAGS) != 0) {
      char hex[16];
      std::snprintf(hex, sizeof hex, "0x%x", flags);
      throw FluxRangeError(env, "descriptor " + std::to_string(i) + ": flags must combine SendFlag.ZERO_COPY (1) and SendFlag.COALESCE (2), got " + hex);
    }
    for (int part = 0; part < 2; part++) {
      uint32_t buffer = one[1 + part * 3], offset = one[2 + part * 3], length = one[3 + part * 3];
      if (part == 1 && length == 0) continue;
      if (length == 0) throw FluxRangeError(env, "descriptor " + std::to_string(i) + ": length0 must be at least 1");
      if (buffer >= registered_.size()) {
        throw FluxRangeError(env, "descriptor " + std::to_string(i) + ": buffer" + std::to_string(part) + " " +
                                             std::to_string(buffer) + " is not a registered buffer (" +
                                             std::to_string(registered_.size()) + " registered)");
      }
      if (static_cast<uint64_t>(offset) + length > registered_[buffer]->length) {
        throw FluxRangeError(env, "descriptor " + std::to_string(i) + ": bytes " + std::to_string(offset) + ".." +
                                             std::to_string(static_cast<uint64_t>(offset) + length) + " lie outside buffer " +
                                             std::to_string(buffer) + " (" + std::to_string(registered_[buffer]->length) +
                                             " bytes)");
      }
    }
  }
  // A descriptor that may open or join a coalesced send: one part, copied, COALESCE set.
  auto coalescible = [&](const uint32_t* one) { return (one[7] & (SEND_COALESCE | SEND_ZERO_COPY)) == SEND_COALESCE && one[6] == 0; };
  uint32_t accepted = 0;
  while (accepted < count && !freeSlots_.empty()) {
    io_uring_sqe* sqe = ring_.NextSqe();
    if (sqe == nullptr) break;
    const uint32_t* one = d + accepted * DESCRIPTOR_UINT32S;
    uint32_t index = freeSlots_.back();
    freeSlots_.pop_back();
    SendSlot& slot = slots_[index];
    slot.token = one[0];
    slot.result = 0;
    slot.busy = true;
    slot.zeroCopyCopied = false;
    slot.segments = 1;
    sqe->fd = fd_;
    sqe->user_data = KIND_SEND | index;

    // How many datagrams from here go in one coalesced send: equal lengths, then at most
    // one shorter to end the run (the kernel cuts every segment but the last to one size).
    uint32_t run = 1;
    if (coalescible(one)) {
      uint32_t segmentBytes = one[3];
      uint32_t totalBytes = segmentBytes;
      while (accepted + run < count && run < MAX_SEGMENTS) {
        const uint32_t* next = d + (accepted + run) * DESCRIPTOR_UINT32S;
        if (!coalescible(next) || next[3] > segmentBytes || totalBytes + next[3] > MAX_COALESCED_BYTES) break;
        totalBytes += next[3];
        run++;
        if (next[3] < segmentBytes) break;
      }
    }
    if (run > 1) {
      if (!slot.coalesced) slot.coalesced = std::make_unique<Coalesced>();
      Coalesced& c = *slot.coalesced;
      for (uint32_t k = 0; k < run; k++) {
        const uint32_t* part = d + (accepted + k) * DESCRIPTOR_UINT32S;
        c.tokens[k] = part[0];
        c.lengths[k] = part[3];
        c.iov[k] = iovec{registered_[part[1]]->data + part[2], part[3]};
      }
      std::memset(&slot.msg, 0, sizeof slot.msg);
      slot.msg.msg_iov = c.iov;
      slot.msg.msg_iovlen = run;
      slot.msg.msg_control = c.control;
      slot.msg.msg_controllen = sizeof c.control;
      cmsghdr* cm = CMSG_FIRSTHDR(&slot.msg);
      cm->cmsg_level = SOL_UDP;
      cm->cmsg_type = UDP_SEGMENT;
      cm->cmsg_len = CMSG_LEN(sizeof(uint16_t));
      uint16_t segmentBytes = static_cast<uint16_t>(one[3]);
      std::memcpy(CMSG_DATA(cm), &segmentBytes, sizeof segmentBytes);
      slot.segments = run;
      coalescedSends_++;
      coalescedDatagrams_ += run;
      sqe->opcode = IORING_OP_SENDMSG;
      sqe->addr = reinterpret_cast<uint64_t>(&slot.msg);
      sqe->len = 1;
      accepted += run;
      continue;
    }

    bool zeroCopy = (one[7] & SEND_ZERO_COPY) != 0;
    uint8_t* base0 = registered_[one[1]]->data + one[2];
    if (one[6] == 0) {
      sqe->opcode = zeroCopy ? IORING_OP_SEND_ZC : IORING_OP_SEND;
      sqe->addr = reinterpret_cast<uint64_t>(base0);
      sqe->len = one[3];
      if (zeroCopy) {
        sqe->ioprio = IORING_RECVSEND_FIXED_BUF;
        sqe->buf_index = static_cast<uint16_t>(one[1]);
      }
    } else {
      slot.iov[0] = iovec{base0, one[3]};
      slot.iov[1] = iovec{registered_[one[4]]->data + one[5], one[6]};
      std::memset(&slot.msg, 0, sizeof slot.msg);
      slot.msg.msg_iov = slot.iov;
      slot.msg.msg_iovlen = 2;
      sqe->opcode = zeroCopy ? IORING_OP_SENDMSG_ZC : IORING_OP_SENDMSG;
      sqe->addr = reinterpret_cast<uint64_t>(&slot.msg);
      sqe->len = 1;
    }
    accepted++;
  }
  if (accepted > 0 || ring_.Unsubmitted() > 0) {
    int r = ring_.Submit();
    // EAGAIN/EBUSY: the kernel is short of memory or its CQ is backed up; the SQEs stay
    // queued and the next send() or poll() submits them.
    if (r < 0 && r != -EAGAIN && r != -EBUSY && r != -EINTR) throw SystemError(env, -r, "io_uring_enter");
  }
  return Napi::Number::New(env, accepted);
}

void UdpSocket::ArmReceive() {
  io_uring_sqe* sqe = ring_.NextSqe();
  if (sqe == nullptr) return;  // retried by the next poll()
  sqe->opcode = IORING_OP_RECVMSG;
  sqe->fd = fd_;
  sqe->addr = reinterpret_cast<uint64_t>(&receiveMsg_);
  sqe->len = 0;  // with a selected buffer: the whole part
  sqe->ioprio = IORING_RECV_MULTISHOT;
  sqe->flags = IOSQE_BUFFER_SELECT;
  sqe->buf_group = BUFFER_GROUP;
  sqe->user_data = KIND_RECV;
  receiveArmed_ = true;
}

void UdpSocket::RecycleLent() {
  if (lent_.empty()) return;
  const uint16_t mask = static_cast<uint16_t>(receiveParts_ - 1);
  for (uint16_t id : lent_) {
    // Entry i is at byte 16 x i of the ring (not &bufs[i]: in C++ the header's flexible
    // array member sits 8 bytes further on).
    io_uring_buf* buf = reinterpret_cast<io_uring_buf*>(bufRing_) + (bufRingTail_ & mask);
    buf->addr = reinterpret_cast<uint64_t>(receiveBase_ + static_cast<size_t>(id) * receivePartBytes_);
    buf->len = receivePartBytes_;
    buf->bid = id;
    bufRingTail_++;
  }
  // Publishes the parts to the kernel: it reads entries only below this tail.
  __atomic_store_n(&bufRing_->tail, bufRingTail_, __ATOMIC_RELEASE);
  lent_.clear();
}

// startReceive(buffer: ArrayBufferView, partBytes: number, parts: number): payload offset
// within each part (after the recvmsg header and the sender's address).
Napi::Value UdpSocket::StartReceive(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckOpen(env);
  if (receiving_) throw FluxStateError(env, "the socket is already receiving");
  Bytes bytes = BytesOf(env, info[0], "buffer");
  uint32_t headerBytes = sizeof(io_uring_recvmsg_out) + sizeof(sockaddr_in6) + (coalescing_ ? CMSG_SPACE(sizeof(int)) : 0);
  uint32_t partBytes = RequireUint32(env, info[1], "partBytes", headerBytes + 1, 1u << 20);
  uint32_t parts = RequireUint32(env, info[2], "parts", 1, 32768);
  if ((parts & (parts - 1)) != 0) throw FluxRangeError(env, "parts must be a power of two, got " + std::to_string(parts));
  if (static_cast<uint64_t>(partBytes) * parts > bytes.length) {
    throw FluxRangeError(env, "buffer holds " + std::to_string(bytes.length) + " bytes, fewer than parts x partBytes = " +
                                         std::to_string(static_cast<uint64_t>(partBytes) * parts));
  }
  bufRingBytes_ = (static_cast<size_t>(parts) * sizeof(io_uring_buf) + 4095) & ~static_cast<size_t>(4095);
  void* ringMemory = mmap(nullptr, bufRingBytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (ringMemory == MAP_FAILED) throw SystemError(env, errno, "mmap");
  std::memset(ringMemory, 0, bufRingBytes_);  // fault the pages in before the kernel maps them
  io_uring_buf_reg reg;
  std::memset(&reg, 0, sizeof reg);
  reg.ring_addr = reinterpret_cast<uint64_t>(ringMemory);
  reg.ring_entries = parts;
  reg.bgid = BUFFER_GROUP;
  int r = SysRegister(ring_.fd(), IORING_REGISTER_PBUF_RING, &reg, 1);
  if (r < 0) {
    munmap(ringMemory, bufRingBytes_);
    throw SystemError(env, -r, "io_uring_register", "(IORING_REGISTER_PBUF_RING)");
  }
  bufRing_ = static_cast<io_uring_buf_ring*>(ringMemory);
  receiveRef_ = Napi::Reference<Napi::Value>::New(info[0], 1);
  receiveBase_ = bytes.data;
  receivePartBytes_ = partBytes;
  receiveParts_ = parts;
  bufRingTail_ = 0;
  lent_.reserve(parts);  // at most every part is lent: recycling never allocates
  for (uint32_t i = 0; i < parts; i++) lent_.push_back(static_cast<uint16_t>(i));
  RecycleLent();  // every part to the kernel
  std::memset(&receiveMsg_, 0, sizeof receiveMsg_);
  receiveMsg_.msg_namelen = sizeof(sockaddr_in6);
  receiveMsg_.msg_controllen = coalescing_ ? CMSG_SPACE(sizeof(int)) : 0;
  payloadOffset_ = headerBytes;
  receiving_ = true;
  ArmReceive();
  ring_.Submit();
  return Napi::Number::New(env, payloadOffset_);
}

unsigned UdpSocket::Reap(int32_t* records, unsigned capacity) {
  unsigned written = 0;
  unsigned ready = ring_.CqReady();
  unsigned seen = 0;
  for (; seen < ready; seen++) {
    const io_uring_cqe* cqe = ring_.Cqe(seen);
    uint64_t kind = cqe->user_data & KIND_MASK;
    if (kind == KIND_SEND) {
      SendSlot& slot = slots_[cqe->user_data & 0xffffffffu];
      bool finished;
      if (cqe->flags & IORING_CQE_F_NOTIF) {
        // The kernel is done with the zero-copy send's pages.
        slot.zeroCopyCopied = (cqe->res & IORING_NOTIF_USAGE_ZC_COPIED) != 0;
        finished = true;
      } else {
        slot.result = cqe->res;
        finished = (cqe->flags & IORING_CQE_F_MORE) == 0;  // a notification follows when MORE is set
      }
      if (finished) {
        if (records != nullptr) {
          if (written + slot.segments > capacity) break;  // stays in the CQ for the next poll
          if (slot.segments == 1) {
            int32_t* out = records + written * RECORD_INT32S;
            out[0] = RECORD_SEND;
            out[1] = static_cast<int32_t>(slot.token);
            out[2] = slot.result;
            out[3] = slot.zeroCopyCopied ? 1 : 0;
            written++;
          } else {
            // A coalesced send: each datagram its own record (its length, or the send's error).
            const Coalesced& c = *slot.coalesced;
            for (uint32_t k = 0; k < slot.segments; k++) {
              int32_t* out = records + written * RECORD_INT32S;
              out[0] = RECORD_SEND;
              out[1] = static_cast<int32_t>(c.tokens[k]);
              out[2] = slot.result < 0 ? slot.result : static_cast<int32_t>(c.lengths[k]);
              out[3] = 0;
              written++;
            }
          }
        }
        slot.busy = false;
        freeSlots_.push_back(static_cast<uint32_t>(&slot - slots_.data()));
      }
    } else if (kind == KIND_RECV) {
      bool more = (cqe->flags & IORING_CQE_F_MORE) != 0;
      if (cqe->res < 0) {
        if (cqe->res == -ENOBUFS) {
          receiveNoBuffers_++;  // every part is lent out: re-armed once some come back
        } else if (cqe->res != -ECANCELED && records != nullptr) {
          if (written >= capacity) break;
          int32_t* out = records + written * RECORD_INT32S;
          out[0] = RECORD_RECV_ERROR;
          out[1] = cqe->res;
          out[2] = 0;
          out[3] = 0;
          written++;
        }
      } else if (cqe->flags & IORING_CQE_F_BUFFER) {
        uint16_t id = static_cast<uint16_t>(cqe->flags >> IORING_CQE_BUFFER_SHIFT);
        uint8_t* part = receiveBase_ + static_cast<size_t>(id) * receivePartBytes_;
        auto* out = reinterpret_cast<io_uring_recvmsg_out*>(part);
        uint32_t room = static_cast<uint32_t>(cqe->res) > payloadOffset_ ? static_cast<uint32_t>(cqe->res) - payloadOffset_ : 0;
        uint32_t length = out->payloadlen < room ? out->payloadlen : room;
        bool truncated = (out->flags & MSG_TRUNC) != 0 || out->payloadlen > room;
        uint32_t segmentBytes = 0;
        if (coalescing_ && out->controllen > 0) {
          // A coalesced (GRO) receive: UDP_GRO's control message gives the segment size.
          msghdr view;
          std::memset(&view, 0, sizeof view);
          view.msg_control = part + sizeof(io_uring_recvmsg_out) + receiveMsg_.msg_namelen;
          view.msg_controllen = out->controllen;
          for (cmsghdr* c = CMSG_FIRSTHDR(&view); c != nullptr; c = CMSG_NXTHDR(&view, c)) {
            if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO) std::memcpy(&segmentBytes, CMSG_DATA(c), sizeof(int));
          }
        }
        unsigned segments = segmentBytes > 0 && length > segmentBytes ? (length + segmentBytes - 1) / segmentBytes : 1;
        if (records != nullptr) {
          if (written + segments > capacity) break;
          if (segments > 1) receiveCoalesced_++;
          size_t base = static_cast<size_t>(id) * receivePartBytes_ + payloadOffset_;
          for (unsigned s = 0; s < segments; s++) {
            uint32_t start = segments == 1 ? 0 : s * segmentBytes;
            uint32_t bytesHere = segments == 1 ? length : (length - start < segmentBytes ? length - start : segmentBytes);
            int32_t* rec = records + written * RECORD_INT32S;
            rec[0] = RECORD_RECV;
            rec[1] = static_cast<int32_t>(base + start);
            rec[2] = static_cast<int32_t>(bytesHere);
            rec[3] = truncated ? 1 : 0;
            written++;
          }
        }
        lent_.push_back(id);
      }
      if (!more) receiveArmed_ = false;
    }
    // KIND_CANCEL and anything else: nothing to report.
  }
  if (seen > 0) ring_.CqAdvance(seen);
  return written;
}

// poll(records: Int32Array, waitNs?: number): records written. Hands the receive parts lent
// by the previous poll back to the kernel first. With waitNs > 0 and nothing ready, waits
// up to waitNs for a completion (a worker thread's blocking wait).
Napi::Value UdpSocket::Poll(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckOpen(env);
  if (!info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) {
    throw FluxTypeError(env, "records must be an Int32Array");
  }
  Napi::Int32Array records = info[0].As<Napi::Int32Array>();
  unsigned capacity = static_cast<unsigned>(records.ElementLength() / RECORD_INT32S);
  if (capacity == 0) throw FluxRangeError(env, "records must hold at least one record (4 int32s)");
  uint32_t waitNs = info[1].IsUndefined() ? 0 : RequireUint32(env, info[1], "waitNs", 0, 4000000000u);

  if (receiving_) {
    RecycleLent();
    if (!receiveArmed_ && !cancelSent_) {
      receiveRearms_++;  // the multishot receive ended (out of parts, or an error): again
      ArmReceive();
    }
  }
  if (ring_.deferTaskRun()) ring_.RunDeferred();  // submits too
  else if (ring_.Unsubmitted() > 0) ring_.Submit();
  if (ring_.CqReady() == 0 && waitNs > 0) ring_.Submit(1, waitNs);
  if (ring_.CqOverflow() > cqOverflowSeen_) cqOverflowSeen_ = ring_.CqOverflow();
  return Napi::Number::New(env, Reap(records.Data(), capacity));
}

Napi::Value UdpSocket::SetSegmentBytes(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckOpen(env);
  int bytes = static_cast<int>(RequireUint32(env, info[0], "segmentBytes", 0, 65535));
  if (setsockopt(fd_, IPPROTO_UDP, UDP_SEGMENT, &bytes, sizeof bytes) != 0) throw SystemError(env, errno, "setsockopt", "(UDP_SEGMENT)");
  return env.Undefined();
}

Napi::Value UdpSocket::SetReceiveCoalescing(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckOpen(env);
  if (receiving_) throw FluxStateError(env, "set receive coalescing before startReceive");
  if (!info[0].IsBoolean()) throw FluxTypeError(env, "enabled must be a boolean");
  int on = info[0].As<Napi::Boolean>().Value() ? 1 : 0;
  if (setsockopt(fd_, IPPROTO_UDP, UDP_GRO, &on, sizeof on) != 0) throw SystemError(env, errno, "setsockopt", "(UDP_GRO)");
  coalescing_ = on != 0;
  return env.Undefined();
}

// onReady(callback | null): calls callback on this thread's event loop whenever completions
// are ready (the ring signals an eventfd that libuv watches). The callback calls poll().
Napi::Value UdpSocket::OnReady(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckOpen(env);
  if (info[0].IsNull() || info[0].IsUndefined()) {
    StopReady();
    return env.Undefined();
  }
  if (!info[0].IsFunction()) throw FluxTypeError(env, "callback must be a function or null");
  onReady_ = Napi::Persistent(info[0].As<Napi::Function>());
  if (readyHandle_ != nullptr) return env.Undefined();
  if (!asyncContext_) asyncContext_ = std::make_unique<Napi::AsyncContext>(env, "FluxUringReady");
  eventFd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (eventFd_ < 0) throw SystemError(env, errno, "eventfd");
  int r = SysRegister(ring_.fd(), IORING_REGISTER_EVENTFD, &eventFd_, 1);
  if (r < 0) {
    close(eventFd_);
    eventFd_ = -1;
    throw SystemError(env, -r, "io_uring_register", "(IORING_REGISTER_EVENTFD)");
  }
  uv_loop_t* loop = nullptr;
  napi_get_uv_event_loop(env, &loop);
  readyHandle_ = new uv_poll_t;
  uv_poll_init(loop, readyHandle_, eventFd_);
  readyHandle_->data = this;
  if (!refed_) uv_unref(reinterpret_cast<uv_handle_t*>(readyHandle_));
  uv_poll_start(readyHandle_, UV_READABLE, [](uv_poll_t* handle, int status, int events) {
    auto* self = static_cast<UdpSocket*>(handle->data);
    uint64_t value;
    while (read(self->eventFd_, &value, sizeof value) > 0) {
    }
    if (self->onReady_.IsEmpty()) return;
    Napi::Env env = self->onReady_.Env();
    Napi::HandleScope scope(env);
    try {
      self->onReady_.MakeCallback(self->Value(), {}, *self->asyncContext_);
    } catch (const Napi::Error& error) {
      // An exception from the callback goes to the process like any callback's would.
      napi_fatal_exception(env, error.Value());
    }
  });
  // Completions that were ready before the eventfd existed signalled nothing: kick once.
  if (ring_.CqReady() > 0) {
    uint64_t one = 1;
    ssize_t ignored = write(eventFd_, &one, sizeof one);
    (void)ignored;
  }
  return env.Undefined();
}

void UdpSocket::StopReady() {
  if (readyHandle_ != nullptr) {
    uv_poll_stop(readyHandle_);
    uv_close(reinterpret_cast<uv_handle_t*>(readyHandle_), OnReadyClosed);
    readyHandle_ = nullptr;
    SysRegister(ring_.fd(), IORING_UNREGISTER_EVENTFD, nullptr, 0);
  }
  if (eventFd_ >= 0) close(eventFd_);
  eventFd_ = -1;
  if (!onReady_.IsEmpty()) onReady_.Reset();
}

// setRef(bool): whether a watching onReady keeps the event loop alive (default true).
Napi::Value UdpSocket::SetRef(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsBoolean()) throw FluxTypeError(env, "ref must be a boolean");
  refed_ = info[0].As<Napi::Boolean>().Value();
  if (readyHandle_ != nullptr) {
    if (refed_) uv_ref(reinterpret_cast<uv_handle_t*>(readyHandle_));
    else uv_unref(reinterpret_cast<uv_handle_t*>(readyHandle_));
  }
  return env.Undefined();
}

Napi::Value UdpSocket::Stats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object result = Napi::Object::New(env);
  result.Set("sendsInFlight", static_cast<double>(slots_.size() - freeSlots_.size()));
  result.Set("maxInFlight", static_cast<double>(slots_.size()));
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

bool UdpSocket::Drain(int64_t budgetNs) {
  if (!ring_.Ready()) return true;
  if (receiving_ && receiveArmed_ && !cancelSent_) {
    io_uring_sqe* sqe = ring_.NextSqe();
    if (sqe != nullptr) {
      sqe->opcode = IORING_OP_ASYNC_CANCEL;
      sqe->addr = KIND_RECV;
      sqe->user_data = KIND_CANCEL;
      cancelSent_ = true;
    }
  }
  int64_t deadline = NowNs() + budgetNs;
  for (;;) {
    Reap(nullptr, 0);
    bool idle = freeSlots_.size() == slots_.size() && !(receiving_ && receiveArmed_);
    if (idle) return true;
    int64_t left = deadline - NowNs();
    if (left <= 0) return false;
    ring_.Submit(1, left < 10000000 ? left : 10000000);
  }
}

bool UdpSocket::Teardown() {
  closed_ = true;
  StopReady();
  bool idle = Drain(2000000000);  // two seconds at most
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
  ring_.Destroy();  // unregisters the buffers and the buffer ring
  if (bufRing_ != nullptr) munmap(bufRing_, bufRingBytes_);
  bufRing_ = nullptr;
  if (!idle) {
    // Something the kernel might still touch did not complete in time: keep its memory
    // alive for the life of the process rather than free it early (see SAFETY.md).
    for (auto& r : registered_) r->ref.SuppressDestruct();
    registered_.clear();
    receiveRef_.SuppressDestruct();
    return false;
  }
  registered_.clear();
  if (!receiveRef_.IsEmpty()) receiveRef_.Reset();
  return true;
}

// close(): { clean }: waits (at most two seconds) for sends and the receive to finish, then
// closes; clean is false when something was still in flight and its memory was kept alive.
Napi::Value UdpSocket::Close(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object result = Napi::Object::New(env);
  if (closed_) {
    result.Set("clean", true);
    return result;
  }
  result.Set("clean", Teardown());
  return result;
}

}  // namespace flux
