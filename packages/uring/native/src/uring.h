// A minimal io_uring: setup, the two mapped rings, submission and completion, through the
// raw system calls and <linux/io_uring.h> only (no liburing, nothing from apt).
//
//   submission queue (SQ)                       completion queue (CQ)
//   +------------------------------+            +------------------------------+
//   | khead   (kernel stores)      |            | khead   (we store, release)  |
//   | ktail   (we store, release)  |            | ktail   (kernel stores)      |
//   | array[] (identity, set once) |            | cqes[]  (kernel writes)      |
//   +------------------------------+            +------------------------------+
//   sqes[]: we write an entry, then publish it by storing ktail (release); the kernel reads
//   entries up to ktail when io_uring_enter() asks it to. The kernel writes a CQE, then
//   stores its ktail (release); we load ktail (acquire), read the CQEs, then store khead
//   (release) to hand the slots back. See SAFETY.md, "@flux/uring".
//
// Not thread-safe: one Uring belongs to the JavaScript thread that created its socket.
#pragma once

#include <linux/io_uring.h>

#include <cstddef>
#include <cstdint>

namespace flux {

int SysSetup(unsigned entries, io_uring_params* params);
int SysEnter(int fd, unsigned toSubmit, unsigned minComplete, unsigned flags, const void* arg, size_t argBytes);
int SysRegister(int fd, unsigned opcode, const void* arg, unsigned count);

class Uring {
 public:
  Uring() = default;
  Uring(const Uring&) = delete;
  Uring& operator=(const Uring&) = delete;
  ~Uring();

  // Creates the ring with `entries` SQEs and `cqEntries` CQEs; returns 0 or -errno.
  // deferTaskRun: completions are posted only when this thread enters the kernel for
  // them (IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN, kernel 6.1), in batches
  // and without interrupting the thread; falls back quietly where unsupported.
  int Init(unsigned entries, unsigned cqEntries, bool deferTaskRun = false);
  bool deferTaskRun() const { return deferTaskRun_; }
  // Enters the kernel to post deferred completions (a no-op without deferTaskRun).
  int RunDeferred();
  // Closes the ring fd and unmaps the rings. The kernel cancels what is still in flight.
  void Destroy();
  bool Ready() const { return fd_ >= 0; }
  int fd() const { return fd_; }
  unsigned features() const { return features_; }

  // A zeroed SQE to fill, or nullptr when the SQ is full.
  io_uring_sqe* NextSqe();
  // Publishes the SQEs filled since the last call and enters the kernel to submit them
  // (and, with minComplete > 0, to wait for that many completions, up to timeoutNs when
  // timeoutNs >= 0). Returns SQEs submitted or -errno.
  int Submit(unsigned minComplete = 0, int64_t timeoutNs = -1);
  // SQEs filled and not yet accepted by the kernel.
  unsigned Unsubmitted() const;

  // Completions ready to read, and the i-th of them (0 = oldest).
  unsigned CqReady() const;
  const io_uring_cqe* Cqe(unsigned i) const { return &cqes_[(cqHead_ + i) & cqMask_]; }
  // Hands `count` CQEs back to the kernel.
  void CqAdvance(unsigned count);
  unsigned CqOverflow() const;

 private:
  int fd_ = -1;
  unsigned features_ = 0;
  bool deferTaskRun_ = false;
  void* sqRing_ = nullptr;
  size_t sqRingBytes_ = 0;
  void* cqRing_ = nullptr;  // == sqRing_ with IORING_FEAT_SINGLE_MMAP
  size_t cqRingBytes_ = 0;
  io_uring_sqe* sqes_ = nullptr;
  size_t sqesBytes_ = 0;

  unsigned* sqKHead_ = nullptr;
  unsigned* sqKTail_ = nullptr;
  unsigned sqMask_ = 0;
  unsigned sqEntries_ = 0;
  unsigned sqTail_ = 0;  // our tail: SQEs handed out by NextSqe

  unsigned* cqKHead_ = nullptr;
  unsigned* cqKTail_ = nullptr;
  unsigned* cqKOverflow_ = nullptr;
  io_uring_cqe* cqes_ = nullptr;
  unsigned cqMask_ = 0;
  unsigned cqHead_ = 0;  // our copy of khead
};

}  // namespace flux
