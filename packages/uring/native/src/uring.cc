#include "uring.h"

#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>

namespace flux {

namespace {

unsigned LoadAcquire(const unsigned* p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }
void StoreRelease(unsigned* p, unsigned v) { __atomic_store_n(p, v, __ATOMIC_RELEASE); }

template <typename T>
T* At(void* base, unsigned offset) {
  return reinterpret_cast<T*>(static_cast<char*>(base) + offset);
}

}  // namespace

int SysSetup(unsigned entries, io_uring_params* params) {
  int r = static_cast<int>(syscall(__NR_io_uring_setup, entries, params));
  return r < 0 ? -errno : r;
}

int SysEnter(int fd, unsigned toSubmit, unsigned minComplete, unsigned flags, const void* arg, size_t argBytes) {
  int r = static_cast<int>(syscall(__NR_io_uring_enter, fd, toSubmit, minComplete, flags, arg, argBytes));
  return r < 0 ? -errno : r;
}

int SysRegister(int fd, unsigned opcode, const void* arg, unsigned count) {
  int r = static_cast<int>(syscall(__NR_io_uring_register, fd, opcode, arg, count));
  return r < 0 ? -errno : r;
}

Uring::~Uring() { Destroy(); }

int Uring::Init(unsigned entries, unsigned cqEntries, bool deferTaskRun) {
  io_uring_params p;
  int fd = -EINVAL;
  if (deferTaskRun) {
    std::memset(&p, 0, sizeof p);
    p.flags = IORING_SETUP_CQSIZE | IORING_SETUP_SUBMIT_ALL | IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
    p.cq_entries = cqEntries;
    fd = SysSetup(entries, &p);
    deferTaskRun_ = fd >= 0;
  }
  if (fd == -EINVAL) {
    std::memset(&p, 0, sizeof p);
    p.flags = IORING_SETUP_CQSIZE | IORING_SETUP_SUBMIT_ALL;
    p.cq_entries = cqEntries;
    fd = SysSetup(entries, &p);
  }
  if (fd == -EINVAL) {  // a kernel before 5.18 has no SUBMIT_ALL
    std::memset(&p, 0, sizeof p);
    p.flags = IORING_SETUP_CQSIZE;
    p.cq_entries = cqEntries;
    fd = SysSetup(entries, &p);
  }
  if (fd < 0) return fd;
  fd_ = fd;
  features_ = p.features;

  sqRingBytes_ = p.sq_off.array + p.sq_entries * sizeof(unsigned);
  cqRingBytes_ = p.cq_off.cqes + p.cq_entries * sizeof(io_uring_cqe);
  const bool single = (p.features & IORING_FEAT_SINGLE_MMAP) != 0;
  if (single && cqRingBytes_ > sqRingBytes_) sqRingBytes_ = cqRingBytes_;
  sqRing_ = mmap(nullptr, sqRingBytes_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_SQ_RING);
  if (sqRing_ == MAP_FAILED) {
    int e = -errno;
    sqRing_ = nullptr;
    Destroy();
    return e;
  }
  if (single) {
    cqRing_ = sqRing_;
  } else {
    cqRing_ = mmap(nullptr, cqRingBytes_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_CQ_RING);
    if (cqRing_ == MAP_FAILED) {
      int e = -errno;
      cqRing_ = nullptr;
      Destroy();
      return e;
    }
  }
  sqesBytes_ = p.sq_entries * sizeof(io_uring_sqe);
  void* sqes = mmap(nullptr, sqesBytes_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_SQES);
  if (sqes == MAP_FAILED) {
    int e = -errno;
    Destroy();
    return e;
  }
  sqes_ = static_cast<io_uring_sqe*>(sqes);

  sqKHead_ = At<unsigned>(sqRing_, p.sq_off.head);
  sqKTail_ = At<unsigned>(sqRing_, p.sq_off.tail);
  sqMask_ = *At<unsigned>(sqRing_, p.sq_off.ring_mask);
  sqEntries_ = *At<unsigned>(sqRing_, p.sq_off.ring_entries);
  unsigned* array = At<unsigned>(sqRing_, p.sq_off.array);
  for (unsigned i = 0; i < sqEntries_; i++) array[i] = i;  // SQE i always sits in slot i
  sqTail_ = *sqKTail_;

  cqKHead_ = At<unsigned>(cqRing_, p.cq_off.head);
  cqKTail_ = At<unsigned>(cqRing_, p.cq_off.tail);
  cqKOverflow_ = At<unsigned>(cqRing_, p.cq_off.overflow);
  cqMask_ = *At<unsigned>(cqRing_, p.cq_off.ring_mask);
  cqes_ = At<io_uring_cqe>(cqRing_, p.cq_off.cqes);
  cqHead_ = *cqKHead_;
  return 0;
}

void Uring::Destroy() {
  // Called from destructors and teardown, where nothing can be reported: munmap of a
  // mapping this ring made cannot fail, and close() releases the ring's descriptor even
  // when it reports an error (the kernel then cancels what is still in flight).
  if (sqes_ != nullptr) (void)munmap(sqes_, sqesBytes_);
  if (cqRing_ != nullptr && cqRing_ != sqRing_) (void)munmap(cqRing_, cqRingBytes_);
  if (sqRing_ != nullptr) (void)munmap(sqRing_, sqRingBytes_);
  sqes_ = nullptr;
  cqRing_ = nullptr;
  sqRing_ = nullptr;
  if (fd_ >= 0) (void)close(fd_);
  fd_ = -1;
}

io_uring_sqe* Uring::NextSqe() {
  if (sqTail_ - LoadAcquire(sqKHead_) >= sqEntries_) return nullptr;
  io_uring_sqe* sqe = &sqes_[sqTail_ & sqMask_];
  std::memset(sqe, 0, sizeof *sqe);
  sqTail_++;
  return sqe;
}

unsigned Uring::Unsubmitted() const { return sqTail_ - LoadAcquire(sqKHead_); }

int Uring::Submit(unsigned minComplete, int64_t timeoutNs) {
  StoreRelease(sqKTail_, sqTail_);  // publishes the SQEs written since the last Submit
  unsigned toSubmit = Unsubmitted();
  unsigned flags = minComplete > 0 ? IORING_ENTER_GETEVENTS : 0;
  if (toSubmit == 0 && minComplete == 0) return 0;
  if (minComplete > 0 && timeoutNs >= 0 && (features_ & IORING_FEAT_EXT_ARG) != 0) {
    __kernel_timespec ts;
    ts.tv_sec = timeoutNs / 1000000000;
    ts.tv_nsec = timeoutNs % 1000000000;
    io_uring_getevents_arg arg;
    std::memset(&arg, 0, sizeof arg);
    arg.ts = reinterpret_cast<uint64_t>(&ts);
    int r = SysEnter(fd_, toSubmit, minComplete, flags | IORING_ENTER_EXT_ARG, &arg, sizeof arg);
    return r == -ETIME ? 0 : r;
  }
  int r;
  do {
    r = SysEnter(fd_, toSubmit, minComplete, flags, nullptr, 0);
  } while (r == -EINTR && minComplete == 0);
  return r;
}

int Uring::RunDeferred() {
  if (!deferTaskRun_) return 0;
  StoreRelease(sqKTail_, sqTail_);
  int r = SysEnter(fd_, Unsubmitted(), 0, IORING_ENTER_GETEVENTS, nullptr, 0);
  return r;
}

unsigned Uring::CqReady() const { return LoadAcquire(cqKTail_) - cqHead_; }

void Uring::CqAdvance(unsigned count) {
  cqHead_ += count;
  StoreRelease(cqKHead_, cqHead_);  // the kernel may now reuse those CQE slots
}

unsigned Uring::CqOverflow() const { return LoadAcquire(cqKOverflow_); }

}  // namespace flux
