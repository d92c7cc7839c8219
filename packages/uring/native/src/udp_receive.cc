// Receives and completions: startReceive() lends the kernel a JavaScript buffer cut into
// parts (a provided buffer ring) and arms one multishot RECVMSG; poll() hands the parts lent
// to JavaScript back, reaps CQEs and writes records (seam_layout.h).
#include <sys/mman.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "errors.h"
#include "seam_layout.h"
#include "udp_options.h"
#include "udp_socket.h"

static_assert(sizeof(io_uring_recvmsg_out) == flux::seam::RECEIVE_PART_NAME_OFFSET,
              "the sender address follows the recvmsg header");
static_assert(AF_INET == flux::seam::RECEIVE_NAME_FAMILY_IPV4 && AF_INET6 == flux::seam::RECEIVE_NAME_FAMILY_IPV6,
              "address families");

namespace flux {

namespace {

constexpr size_t PAGE_BYTES = 4096;
constexpr uint32_t MAX_PART_BYTES = 1u << 20;
constexpr uint32_t MAX_PARTS = 32768;

int32_t* RecordAt(int32_t* records, unsigned i) { return records + i * seam::RECORD_INT32S; }

// The segment size of a coalesced (GRO) receive, from UDP_GRO's control message; 0 if none.
uint32_t GroSegmentBytes(uint8_t* part, const io_uring_recvmsg_out* out, socklen_t nameBytes) {
  uint32_t segmentBytes = 0;
  msghdr view;
  std::memset(&view, 0, sizeof view);
  view.msg_control = part + sizeof(io_uring_recvmsg_out) + nameBytes;
  view.msg_controllen = out->controllen;
  for (cmsghdr* c = CMSG_FIRSTHDR(&view); c != nullptr; c = CMSG_NXTHDR(&view, c)) {
    if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO) std::memcpy(&segmentBytes, CMSG_DATA(c), sizeof(int));
  }
  return segmentBytes;
}

}  // namespace

void UdpSocket::ArmReceive() {
  io_uring_sqe* sqe = io_->ring.NextSqe();
  if (sqe == nullptr) return;  // SQ full: receiveArmed stays false and the next poll() retries
  sqe->opcode = IORING_OP_RECVMSG;
  sqe->fd = io_->fd;
  sqe->addr = reinterpret_cast<uint64_t>(&io_->receiveMsg);
  sqe->len = 0;  // with a selected buffer: the whole part
  sqe->ioprio = IORING_RECV_MULTISHOT;
  sqe->flags = IOSQE_BUFFER_SELECT;
  sqe->buf_group = BUFFER_GROUP;
  sqe->user_data = KIND_RECV;
  io_->receiveArmed = true;
}

void UdpSocket::RecycleLent() {
  if (lent_.empty()) return;
  io_uring_buf_ring* bufRing = io_->bufRing;
  const uint16_t mask = static_cast<uint16_t>(receiveParts_ - 1);
  for (uint16_t id : lent_) {
    // Entry i is at byte 16 x i of the ring (not &bufs[i]: in C++ the header's flexible
    // array member sits 8 bytes further on).
    io_uring_buf* buf = reinterpret_cast<io_uring_buf*>(bufRing) + (bufRingTail_ & mask);
    buf->addr = reinterpret_cast<uint64_t>(receiveBase_ + static_cast<size_t>(id) * receivePartBytes_);
    buf->len = receivePartBytes_;
    buf->bid = id;
    bufRingTail_++;
  }
  // Publishes the parts to the kernel: it reads entries only below this tail.
  __atomic_store_n(&bufRing->tail, bufRingTail_, __ATOMIC_RELEASE);
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
  uint32_t partBytes = RequireUint32(env, info[1], "partBytes", headerBytes + 1, MAX_PART_BYTES);
  uint32_t parts = RequireUint32(env, info[2], "parts", 1, MAX_PARTS);
  if ((parts & (parts - 1)) != 0) throw FluxRangeError(env, "parts must be a power of two, got " + std::to_string(parts));
  if (static_cast<uint64_t>(partBytes) * parts > bytes.length) {
    throw FluxRangeError(env, "buffer holds " + std::to_string(bytes.length) + " bytes, fewer than parts x partBytes = " +
                                  std::to_string(static_cast<uint64_t>(partBytes) * parts));
  }
  size_t ringBytes = (static_cast<size_t>(parts) * sizeof(io_uring_buf) + PAGE_BYTES - 1) & ~(PAGE_BYTES - 1);
  void* ringMemory = mmap(nullptr, ringBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (ringMemory == MAP_FAILED) throw SystemError(env, errno, "mmap");
  std::memset(ringMemory, 0, ringBytes);  // fault the pages in before the kernel maps them
  io_uring_buf_reg reg;
  std::memset(&reg, 0, sizeof reg);
  reg.ring_addr = reinterpret_cast<uint64_t>(ringMemory);
  reg.ring_entries = parts;
  reg.bgid = BUFFER_GROUP;
  int r = SysRegister(io_->ring.fd(), IORING_REGISTER_PBUF_RING, &reg, 1);
  if (r < 0) {
    // The kernel never saw the mapping; munmap of a mapping we just made cannot fail, and
    // the registration's error is the one to report.
    (void)munmap(ringMemory, ringBytes);
    throw SystemError(env, -r, "io_uring_register", "(IORING_REGISTER_PBUF_RING)");
  }
  io_->bufRing = static_cast<io_uring_buf_ring*>(ringMemory);
  io_->bufRingBytes = ringBytes;
  io_->receiveRef = Napi::Reference<Napi::Value>::New(info[0], 1);
  receiveBase_ = bytes.data;
  receivePartBytes_ = partBytes;
  receiveParts_ = parts;
  bufRingTail_ = 0;
  lent_.reserve(parts);  // at most every part is lent: recycling never allocates
  for (uint32_t i = 0; i < parts; i++) lent_.push_back(static_cast<uint16_t>(i));
  RecycleLent();  // every part to the kernel
  msghdr& msg = io_->receiveMsg;
  std::memset(&msg, 0, sizeof msg);
  msg.msg_namelen = sizeof(sockaddr_in6);
  msg.msg_controllen = coalescing_ ? CMSG_SPACE(sizeof(int)) : 0;
  payloadOffset_ = headerBytes;
  receiving_ = true;
  ArmReceive();
  ThrowIfEnterFailed(env, io_->ring.Submit());
  return Napi::Number::New(env, payloadOffset_);
}

bool UdpSocket::WriteSendRecords(const SendSlot& slot, int32_t* records, unsigned capacity, unsigned* written) {
  if (*written + slot.segments > capacity) return false;  // stays in the CQ for the next poll
  if (slot.segments == 1) {
    int32_t* out = RecordAt(records, (*written)++);
    out[seam::RECORD_KIND_OFFSET] = seam::RECORD_KIND_SEND;
    out[seam::RECORD_SEND_TOKEN_OFFSET] = static_cast<int32_t>(slot.token);
    out[seam::RECORD_SEND_RESULT_OFFSET] = slot.result;
    out[seam::RECORD_SEND_FLAGS_OFFSET] = slot.zeroCopyCopied ? seam::RECORD_SEND_FLAG_ZERO_COPY_COPIED : 0;
    return true;
  }
  // A coalesced send: each datagram its own record (its length, or the send's error).
  const Coalesced& c = *slot.coalesced;
  for (uint32_t k = 0; k < slot.segments; k++) {
    int32_t* out = RecordAt(records, (*written)++);
    out[seam::RECORD_KIND_OFFSET] = seam::RECORD_KIND_SEND;
    out[seam::RECORD_SEND_TOKEN_OFFSET] = static_cast<int32_t>(c.tokens[k]);
    out[seam::RECORD_SEND_RESULT_OFFSET] = slot.result < 0 ? slot.result : static_cast<int32_t>(c.lengths[k]);
    out[seam::RECORD_SEND_FLAGS_OFFSET] = 0;
  }
  return true;
}

bool UdpSocket::WriteReceiveRecords(const io_uring_cqe* cqe, int32_t* records, unsigned capacity, unsigned* written) {
  uint16_t id = static_cast<uint16_t>(cqe->flags >> IORING_CQE_BUFFER_SHIFT);
  uint8_t* part = receiveBase_ + static_cast<size_t>(id) * receivePartBytes_;
  auto* out = reinterpret_cast<io_uring_recvmsg_out*>(part);
  uint32_t res = static_cast<uint32_t>(cqe->res);
  uint32_t room = res > payloadOffset_ ? res - payloadOffset_ : 0;
  uint32_t length = out->payloadlen < room ? out->payloadlen : room;
  bool truncated = (out->flags & MSG_TRUNC) != 0 || out->payloadlen > room;
  uint32_t segmentBytes = coalescing_ && out->controllen > 0 ? GroSegmentBytes(part, out, io_->receiveMsg.msg_namelen) : 0;
  unsigned segments = segmentBytes > 0 && length > segmentBytes ? (length + segmentBytes - 1) / segmentBytes : 1;
  if (*written + segments > capacity) return false;  // stays in the CQ for the next poll
  if (segments > 1) receiveCoalesced_++;
  size_t base = static_cast<size_t>(id) * receivePartBytes_ + payloadOffset_;
  for (unsigned s = 0; s < segments; s++) {
    uint32_t start = segments == 1 ? 0 : s * segmentBytes;
    uint32_t bytesHere = segments == 1 ? length : (length - start < segmentBytes ? length - start : segmentBytes);
    int32_t* rec = RecordAt(records, (*written)++);
    rec[seam::RECORD_KIND_OFFSET] = seam::RECORD_KIND_RECV;
    rec[seam::RECORD_RECV_START_OFFSET] = static_cast<int32_t>(base + start);
    rec[seam::RECORD_RECV_LENGTH_OFFSET] = static_cast<int32_t>(bytesHere);
    rec[seam::RECORD_RECV_FLAGS_OFFSET] = truncated ? seam::RECORD_RECV_FLAG_TRUNCATED : 0;
  }
  lent_.push_back(id);
  return true;
}

unsigned UdpSocket::Reap(int32_t* records, unsigned capacity) {
  unsigned written = 0;
  unsigned ready = io_->ring.CqReady();
  unsigned seen = 0;
  for (; seen < ready; seen++) {
    const io_uring_cqe* cqe = io_->ring.Cqe(seen);
    uint64_t kind = cqe->user_data & KIND_MASK;
    if (kind == KIND_SEND) {
      SendSlot& slot = io_->slots[cqe->user_data & SLOT_MASK];
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
        if (!WriteSendRecords(slot, records, capacity, &written)) break;
        slot.busy = false;
        freeSlots_.push_back(static_cast<uint32_t>(&slot - io_->slots.data()));
      }
    } else if (kind == KIND_RECV) {
      bool more = (cqe->flags & IORING_CQE_F_MORE) != 0;
      if (cqe->res < 0) {
        if (cqe->res == -ENOBUFS) {
          receiveNoBuffers_++;  // every part is lent out: re-armed once some come back
        } else if (cqe->res != -ECANCELED) {
          if (written >= capacity) break;
          int32_t* out = RecordAt(records, written++);
          out[seam::RECORD_KIND_OFFSET] = seam::RECORD_KIND_RECV_ERROR;
          out[seam::RECORD_RECV_ERROR_ERRNO_OFFSET] = cqe->res;
          for (uint32_t w = seam::RECORD_RECV_ERROR_ERRNO_OFFSET + 1; w < seam::RECORD_INT32S; w++) out[w] = 0;
        }
      } else if (cqe->flags & IORING_CQE_F_BUFFER) {
        if (!WriteReceiveRecords(cqe, records, capacity, &written)) break;
      }
      if (!more) io_->receiveArmed = false;
    }
    // KIND_CANCEL and anything else: nothing to report.
  }
  if (seen > 0) io_->ring.CqAdvance(seen);
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
  unsigned capacity = static_cast<unsigned>(records.ElementLength() / seam::RECORD_INT32S);
  if (capacity == 0) throw FluxRangeError(env, "records must hold at least one record (4 int32s)");
  uint32_t waitNs = info[1].IsUndefined() ? 0 : RequireUint32(env, info[1], "waitNs", 0, seam::MAX_WAIT_NS);

  Uring& ring = io_->ring;
  if (receiving_) {
    RecycleLent();
    if (!io_->receiveArmed && !io_->cancelSent) {
      receiveRearms_++;  // the multishot receive ended (out of parts, or an error): again
      ArmReceive();
    }
  }
  if (ring.deferTaskRun())
    ThrowIfEnterFailed(env, ring.RunDeferred());  // submits too
  else if (ring.Unsubmitted() > 0)
    ThrowIfEnterFailed(env, ring.Submit());
  if (ring.CqReady() == 0 && waitNs > 0) ThrowIfEnterFailed(env, ring.Submit(1, waitNs));
  if (ring.CqOverflow() > cqOverflowSeen_) cqOverflowSeen_ = ring.CqOverflow();
  return Napi::Number::New(env, Reap(records.Data(), capacity));
}

}  // namespace flux
