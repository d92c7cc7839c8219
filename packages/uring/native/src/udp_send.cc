// Sends: registerBuffers() once, then send() turns a batch of descriptors (seam_layout.h)
// into SQEs, coalescing runs of equal-length one-part datagrams into one GSO sendmsg.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "errors.h"
#include "seam_layout.h"
#include "udp_options.h"
#include "udp_socket.h"

namespace flux {

namespace {

constexpr size_t MAX_REGISTERED_BUFFERS = 1024;
constexpr size_t MAX_REGISTERED_BYTES = 1ull << 30;  // the kernel's limit per registered buffer

const uint32_t* DescriptorAt(const uint32_t* descriptors, uint32_t i) { return descriptors + i * seam::DESCRIPTOR_UINT32S; }

// Word `offset` of part `part` (0 or 1): DESCRIPTOR_BUFFER0/START0/LENGTH0_OFFSET and part 1's.
uint32_t PartWord(const uint32_t* one, uint32_t part, uint32_t offset) {
  return one[offset + part * seam::DESCRIPTOR_PART_UINT32S];
}

// A descriptor that may open or join a coalesced send: one part, copied, COALESCE set.
bool Coalescible(const uint32_t* one) {
  return (one[seam::DESCRIPTOR_FLAGS_OFFSET] & (seam::SEND_FLAG_COALESCE | seam::SEND_FLAG_ZERO_COPY)) ==
             seam::SEND_FLAG_COALESCE &&
         one[seam::DESCRIPTOR_LENGTH1_OFFSET] == 0;
}

}  // namespace

// registerBuffers(buffers: ArrayBufferView[]): registers them with the kernel (once per
// socket) and keeps a strong reference to each until the socket is closed and nothing in
// flight can touch them.
Napi::Value UdpSocket::RegisterBuffers(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckOpen(env);
  if (!io_->registered.empty())
    throw FluxStateError(env, "buffers are already registered (registerBuffers is called once per socket)");
  if (!info[0].IsArray()) throw FluxTypeError(env, "buffers must be an array of TypedArrays");
  Napi::Array list = info[0].As<Napi::Array>();
  uint32_t count = list.Length();
  if (count < 1 || count > MAX_REGISTERED_BUFFERS)
    throw FluxRangeError(env, "buffers must hold 1 to 1024 buffers, got " + std::to_string(count));
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
  int r = SysRegister(io_->ring.fd(), IORING_REGISTER_BUFFERS, iovecs.data(), count);
  if (r < 0) throw SystemError(env, -r, "io_uring_register", "(IORING_REGISTER_BUFFERS)");
  io_->registered = std::move(pending);
  return Napi::Number::New(env, count);
}

// Every descriptor is checked before any is queued: a bad one queues none of the batch.
void UdpSocket::CheckDescriptors(Napi::Env env, const uint32_t* descriptors, uint32_t count) const {
  const auto& registered = io_->registered;
  for (uint32_t i = 0; i < count; i++) {
    const uint32_t* one = DescriptorAt(descriptors, i);
    uint32_t flags = one[seam::DESCRIPTOR_FLAGS_OFFSET];
    std::string which = "descriptor " + std::to_string(i) + ": ";
    if ((flags & ~seam::KNOWN_SEND_FLAGS) != 0) {
      char hex[16];
      std::snprintf(hex, sizeof hex, "0x%x", flags);
      throw FluxRangeError(env, which + "flags must combine SendFlag.ZERO_COPY (1) and SendFlag.COALESCE (2), got " + hex);
    }
    for (uint32_t part = 0; part < seam::DESCRIPTOR_PARTS; part++) {
      uint32_t buffer = PartWord(one, part, seam::DESCRIPTOR_BUFFER0_OFFSET);
      uint32_t start = PartWord(one, part, seam::DESCRIPTOR_START0_OFFSET);
      uint32_t length = PartWord(one, part, seam::DESCRIPTOR_LENGTH0_OFFSET);
      if (part == 1 && length == 0) continue;
      if (length == 0) throw FluxRangeError(env, which + "length0 must be at least 1");
      if (buffer >= registered.size()) {
        throw FluxRangeError(env, which + "buffer" + std::to_string(part) + " " + std::to_string(buffer) +
                                      " is not a registered buffer (" + std::to_string(registered.size()) + " registered)");
      }
      uint64_t end = static_cast<uint64_t>(start) + length;
      if (end > registered[buffer]->length) {
        throw FluxRangeError(env, which + "bytes " + std::to_string(start) + ".." + std::to_string(end) + " lie outside buffer " +
                                      std::to_string(buffer) + " (" + std::to_string(registered[buffer]->length) + " bytes)");
      }
    }
  }
}

// How many datagrams from `first` go in one coalesced send: equal lengths, then at most one
// shorter to end the run (the kernel cuts every segment but the last to one size).
uint32_t UdpSocket::CoalescedRun(const uint32_t* descriptors, uint32_t first, uint32_t count) const {
  const uint32_t* one = DescriptorAt(descriptors, first);
  if (!Coalescible(one)) return 1;
  uint32_t segmentBytes = one[seam::DESCRIPTOR_LENGTH0_OFFSET];
  uint32_t totalBytes = segmentBytes;
  uint32_t run = 1;
  while (first + run < count && run < MAX_SEGMENTS) {
    const uint32_t* next = DescriptorAt(descriptors, first + run);
    uint32_t length = next[seam::DESCRIPTOR_LENGTH0_OFFSET];
    if (!Coalescible(next) || length > segmentBytes || totalBytes + length > MAX_COALESCED_BYTES) break;
    totalBytes += length;
    run++;
    if (length < segmentBytes) break;
  }
  return run;
}

// `run` (> 1) one-part datagrams as one SENDMSG with a UDP_SEGMENT control message.
void UdpSocket::PrepareCoalesced(io_uring_sqe* sqe, SendSlot& slot, const uint32_t* descriptors, uint32_t run) {
  if (!slot.coalesced) slot.coalesced = std::make_unique<Coalesced>();
  Coalesced& c = *slot.coalesced;
  for (uint32_t k = 0; k < run; k++) {
    const uint32_t* one = DescriptorAt(descriptors, k);
    uint32_t length = one[seam::DESCRIPTOR_LENGTH0_OFFSET];
    c.tokens[k] = one[seam::DESCRIPTOR_TOKEN_OFFSET];
    c.lengths[k] = length;
    c.iov[k] = iovec{io_->registered[one[seam::DESCRIPTOR_BUFFER0_OFFSET]]->data + one[seam::DESCRIPTOR_START0_OFFSET], length};
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
  uint16_t segmentBytes = static_cast<uint16_t>(descriptors[seam::DESCRIPTOR_LENGTH0_OFFSET]);
  std::memcpy(CMSG_DATA(cm), &segmentBytes, sizeof segmentBytes);
  slot.segments = run;
  coalescedSends_++;
  coalescedDatagrams_ += run;
  sqe->opcode = IORING_OP_SENDMSG;
  sqe->addr = reinterpret_cast<uint64_t>(&slot.msg);
  sqe->len = 1;
}

// One datagram: SEND (one part) or SENDMSG (two), zero-copy when flagged.
void UdpSocket::PrepareSingle(io_uring_sqe* sqe, SendSlot& slot, const uint32_t* one) {
  bool zeroCopy = (one[seam::DESCRIPTOR_FLAGS_OFFSET] & seam::SEND_FLAG_ZERO_COPY) != 0;
  uint32_t buffer0 = one[seam::DESCRIPTOR_BUFFER0_OFFSET];
  uint8_t* base0 = io_->registered[buffer0]->data + one[seam::DESCRIPTOR_START0_OFFSET];
  uint32_t length0 = one[seam::DESCRIPTOR_LENGTH0_OFFSET];
  uint32_t length1 = one[seam::DESCRIPTOR_LENGTH1_OFFSET];
  if (length1 == 0) {
    sqe->opcode = zeroCopy ? IORING_OP_SEND_ZC : IORING_OP_SEND;
    sqe->addr = reinterpret_cast<uint64_t>(base0);
    sqe->len = length0;
    if (zeroCopy) {
      sqe->ioprio = IORING_RECVSEND_FIXED_BUF;
      sqe->buf_index = static_cast<uint16_t>(buffer0);
    }
    return;
  }
  uint8_t* base1 = io_->registered[one[seam::DESCRIPTOR_BUFFER1_OFFSET]]->data + one[seam::DESCRIPTOR_START1_OFFSET];
  slot.iov[0] = iovec{base0, length0};
  slot.iov[1] = iovec{base1, length1};
  std::memset(&slot.msg, 0, sizeof slot.msg);
  slot.msg.msg_iov = slot.iov;
  slot.msg.msg_iovlen = 2;
  sqe->opcode = zeroCopy ? IORING_OP_SENDMSG_ZC : IORING_OP_SENDMSG;
  sqe->addr = reinterpret_cast<uint64_t>(&slot.msg);
  sqe->len = 1;
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
  uint32_t count = RequireUint32(env, info[1], "count", 0, seam::MAX_SEND_COUNT);
  if (static_cast<size_t>(count) * seam::DESCRIPTOR_UINT32S > descriptors.ElementLength()) {
    throw FluxRangeError(env, "count " + std::to_string(count) + " needs " + std::to_string(count * seam::DESCRIPTOR_UINT32S) +
                                  " descriptor words, the array has " + std::to_string(descriptors.ElementLength()));
  }
  const uint32_t* d = descriptors.Data();
  CheckDescriptors(env, d, count);
  uint32_t accepted = 0;
  while (accepted < count && !freeSlots_.empty()) {
    io_uring_sqe* sqe = io_->ring.NextSqe();
    if (sqe == nullptr) break;
    const uint32_t* one = DescriptorAt(d, accepted);
    uint32_t index = freeSlots_.back();
    freeSlots_.pop_back();
    SendSlot& slot = io_->slots[index];
    slot.token = one[seam::DESCRIPTOR_TOKEN_OFFSET];
    slot.result = 0;
    slot.busy = true;
    slot.zeroCopyCopied = false;
    slot.segments = 1;
    sqe->fd = io_->fd;
    sqe->user_data = KIND_SEND | index;
    uint32_t run = CoalescedRun(d, accepted, count);
    if (run > 1)
      PrepareCoalesced(sqe, slot, one, run);
    else
      PrepareSingle(sqe, slot, one);
    accepted += run;
  }
  if (accepted > 0 || io_->ring.Unsubmitted() > 0) ThrowIfEnterFailed(env, io_->ring.Submit());
  return Napi::Number::New(env, accepted);
}

// sendTo(bytes: ArrayBufferView, lengthBytes: number, address: string, port: number): the
// bytes sent, or -errno (EAGAIN when the socket buffer is full: the frame is not sent). The
// first lengthBytes bytes of `bytes` are read during the call only.
Napi::Value UdpSocket::SendTo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckOpen(env);
  Bytes bytes = BytesOf(env, info[0], "bytes");
  uint32_t lengthBytes = RequireUint32(env, info[1], "lengthBytes", 1, 65535);
  if (lengthBytes > bytes.length) {
    throw FluxRangeError(
        env, "lengthBytes " + std::to_string(lengthBytes) + " is more than the " + std::to_string(bytes.length) + " bytes given");
  }
  socklen_t addressBytes = 0;
  sockaddr_storage to = ParseAddress(env, info[2], info[3], &addressBytes);
  ssize_t sent = ::sendto(io_->fd, bytes.data, lengthBytes, MSG_DONTWAIT, reinterpret_cast<const sockaddr*>(&to), addressBytes);
  return Napi::Number::New(env, sent < 0 ? -errno : static_cast<double>(sent));
}

}  // namespace flux
