// Memory shared between processes.
//
//   mapSharedFile(path, bytes, create, mode)  create: open(O_CREAT | O_EXCL, mode), ftruncate(bytes),
//                                             fallocate (a full file system: ENOSPC now, not SIGBUS later)
//                                             open:   open(O_RDWR), the file's own size
//                                             then mmap(MAP_SHARED) of the whole file into an
//                                             external ArrayBuffer (page-aligned: offset 0 is on a
//                                             cache line); the finalizer munmaps. The fd is closed at
//                                             once (the mapping keeps the file).
//   futexWait(buffer, byteOffset, expected, timeoutMs)       FUTEX_WAIT without FUTEX_PRIVATE_FLAG: the
//   futexWaitAsync(buffer, byteOffset, expected, timeoutMs)  kernel keys the wait by the page's inode
//   futexWake(buffer, byteOffset, count)                     and offset, so a wake from any process
//                                                            that maps the file reaches it
//
//   prefaultAsync(buffer, write)     on a libuv pool thread: maps every page of the buffer into this
//                                    process's page tables ahead of use (MADV_POPULATE_WRITE /
//                                    _READ, Linux 5.14), then touches each page (a fetch-add of 0
//                                    or a load: the contents never change), which is what takes a
//                                    VM's second-level fault. A first touch of a page is a fault of
//                                    several microseconds in a VM; a journal prefaults the segment
//                                    it will write next while it fills this one.
//
// Wait results (FUTEX_RESULT_* in seam_layout.h): OK (woken, or a signal: the caller re-checks),
// NOT_EQUAL (the word no longer held `expected`), TIMED_OUT. futexWaitAsync runs the wait on
// a libuv pool thread (napi AsyncWorker) and resolves a promise with the result; it holds a
// reference to the buffer, so the mapping outlives the wait.
#include "shared_memory.h"

#include <fcntl.h>
#include <linux/futex.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cmath>
#include <cstdint>
#include <ctime>
#include <string>

#include "errors.h"
#include "seam_layout.h"

namespace flux {

namespace {

constexpr double MAX_MAPPED_BYTES = 2147483647.0;  // a ring is int32-indexable

struct Word {
  int32_t* address;
};

// The int32 at `byteOffset` of an ArrayBuffer (4-byte aligned, inside it), or a TypeError / RangeError.
Word WordOf(Napi::Env env, const Napi::CallbackInfo& info) {
  if (!info[0].IsArrayBuffer()) throw FluxTypeError(env, "buffer must be an ArrayBuffer (a mapped file's)");
  Napi::ArrayBuffer buffer = info[0].As<Napi::ArrayBuffer>();
  uint32_t byteOffset = RequireUint32(env, info[1], "byteOffset", 0, UINT32_MAX - 3);
  if (byteOffset % 4 != 0 || static_cast<size_t>(byteOffset) + 4 > buffer.ByteLength()) {
    throw FluxRangeError(env, "byteOffset must be a multiple of 4 inside the buffer's " + std::to_string(buffer.ByteLength()) +
                                  " bytes, got " + std::to_string(byteOffset));
  }
  return Word{reinterpret_cast<int32_t*>(static_cast<uint8_t*>(buffer.Data()) + byteOffset)};
}

int32_t ExpectedOf(Napi::Env env, const Napi::Value& value) {
  if (!value.IsNumber()) throw FluxTypeError(env, "expected must be a number");
  double d = value.As<Napi::Number>().DoubleValue();
  if (!(d >= INT32_MIN && d <= INT32_MAX) || d != std::trunc(d)) {
    throw FluxRangeError(env, "expected must be an int32, got " + value.ToString().Utf8Value());
  }
  return static_cast<int32_t>(d);
}

// timeoutMs: a number >= 0, Infinity allowed (then no timeout: -1 here).
double TimeoutOf(Napi::Env env, const Napi::Value& value) {
  if (!value.IsNumber()) throw FluxTypeError(env, "timeoutMs must be a number");
  double d = value.As<Napi::Number>().DoubleValue();
  if (!(d >= 0))
    throw FluxRangeError(env, "timeoutMs must be at least 0 (Infinity: no timeout), got " + value.ToString().Utf8Value());
  return std::isinf(d) ? -1 : d;
}

int Wait(int32_t* address, int32_t expected, double timeoutMs) {
  struct timespec relative;
  struct timespec* timeout = nullptr;
  if (timeoutMs >= 0) {
    double seconds = std::floor(timeoutMs / 1000);
    relative.tv_sec = static_cast<time_t>(seconds);
    relative.tv_nsec = static_cast<long>((timeoutMs - seconds * 1000) * 1e6);
    timeout = &relative;
  }
  // Not FUTEX_PRIVATE_FLAG: the wait must be keyed by the shared page, not this process's mm.
  long result = syscall(SYS_futex, address, FUTEX_WAIT, expected, timeout, nullptr, 0);
  if (result == 0) return seam::FUTEX_RESULT_OK;
  if (errno == EAGAIN) return seam::FUTEX_RESULT_NOT_EQUAL;
  if (errno == ETIMEDOUT) return seam::FUTEX_RESULT_TIMED_OUT;
  return seam::FUTEX_RESULT_OK;  // EINTR (a signal): the caller re-reads the word and waits again
}

class FutexWaitWorker : public Napi::AsyncWorker {
 public:
  FutexWaitWorker(Napi::Env env, Napi::ArrayBuffer buffer, int32_t* address, int32_t expected, double timeoutMs)
      : Napi::AsyncWorker(env, "flux.futexWaitAsync"),
        deferred_(Napi::Promise::Deferred::New(env)),
        buffer_(Napi::Persistent(buffer)),
        address_(address),
        expected_(expected),
        timeoutMs_(timeoutMs) {}

  Napi::Promise Promise() { return deferred_.Promise(); }

  void Execute() override { result_ = Wait(address_, expected_, timeoutMs_); }

  void OnOK() override {
    buffer_.Reset();
    deferred_.Resolve(Napi::Number::New(Env(), result_));
  }

 private:
  Napi::Promise::Deferred deferred_;
  Napi::Reference<Napi::ArrayBuffer> buffer_;  // the mapping stays while the pool thread waits on it
  int32_t* address_;
  int32_t expected_;
  double timeoutMs_;
  int result_ = seam::FUTEX_RESULT_OK;
};

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#endif
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

// Raw Node-API async work, not Napi::AsyncWorker: a worker thread may exit while a prefault
// runs, and then the completion runs in a terminating environment where node-addon-api's
// HandleScope throws a C++ exception nobody catches (std::terminate). These C calls fail
// quietly instead.
struct PrefaultWork {
  napi_async_work work = nullptr;
  napi_deferred deferred = nullptr;
  napi_ref buffer = nullptr;  // the mapping stays while the pool thread touches it
  uint8_t* address = nullptr;
  size_t bytes = 0;
  bool write = false;
};

void PrefaultExecute(napi_env, void* data) {
  auto* work = static_cast<PrefaultWork*>(data);
  long page = sysconf(_SC_PAGESIZE);
  uintptr_t start = reinterpret_cast<uintptr_t>(work->address) & ~static_cast<uintptr_t>(page - 1);
  size_t length = reinterpret_cast<uintptr_t>(work->address) + work->bytes - start;
  // EFAULT / ENOMEM / EIO: part of the file is gone (truncated under the mapping): touching
  // it would be a SIGBUS, so stop. EINVAL (a kernel before 5.14): the touches below alone.
  if (madvise(reinterpret_cast<void*>(start), length, work->write ? MADV_POPULATE_WRITE : MADV_POPULATE_READ) != 0 &&
      errno != EINVAL)
    return;
  // Then touch every page, without changing it (another process may be writing it): in a VM
  // whose host backs guest memory lazily, a page the guest has populated still costs a
  // second-level fault on its first touch (2.7 us a page here, measured: populate alone
  // left it, a touch after it removed it). Paid here, on the pool thread, not by the writer.
  for (size_t offset = 0; offset < work->bytes; offset += static_cast<size_t>(page)) {
    int32_t* word = reinterpret_cast<int32_t*>(reinterpret_cast<uintptr_t>(work->address + offset) & ~static_cast<uintptr_t>(3));
    if (work->write)
      (void)__atomic_fetch_add(word, 0, __ATOMIC_RELAXED);
    else
      (void)__atomic_load_n(word, __ATOMIC_RELAXED);
  }
}

void PrefaultComplete(napi_env env, napi_status, void* data) {
  auto* work = static_cast<PrefaultWork*>(data);
  napi_value undefined;
  if (napi_get_undefined(env, &undefined) == napi_ok) (void)napi_resolve_deferred(env, work->deferred, undefined);
  (void)napi_delete_reference(env, work->buffer);
  (void)napi_delete_async_work(env, work->work);
  delete work;
}

}  // namespace

Napi::Value PrefaultAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsArrayBuffer()) throw FluxTypeError(env, "buffer must be an ArrayBuffer (a mapped file's)");
  Napi::ArrayBuffer buffer = info[0].As<Napi::ArrayBuffer>();
  auto* work = new PrefaultWork();
  work->address = static_cast<uint8_t*>(buffer.Data());
  work->bytes = buffer.ByteLength();
  work->write = info[1].ToBoolean().Value();
  napi_value promise;
  napi_value name;
  if (napi_create_promise(env, &work->deferred, &promise) != napi_ok ||
      napi_create_reference(env, buffer, 1, &work->buffer) != napi_ok ||
      napi_create_string_utf8(env, "flux.prefaultAsync", NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_create_async_work(env, nullptr, name, PrefaultExecute, PrefaultComplete, work, &work->work) != napi_ok ||
      napi_queue_async_work(env, work->work) != napi_ok) {
    delete work;  // (a leaked reference or promise at worst: these fail only when the environment is going away)
    throw FluxUnsupportedError(env, "could not queue the prefault (is the environment shutting down?)");
  }
  return Napi::Value(env, promise);
}

Napi::Value MapSharedFile(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString()) throw FluxTypeError(env, "path must be a string");
  std::string path = info[0].As<Napi::String>().Utf8Value();
  if (path.empty() || path.find('\0') != std::string::npos)
    throw FluxTypeError(env, "path must be a non-empty string without NUL");
  bool create = info[2].ToBoolean().Value();
  uint32_t mode = RequireUint32(env, info[3], "mode", 0, 0777);
  size_t bytes = 0;
  int fd;
  if (create) {
    if (!info[1].IsNumber()) throw FluxTypeError(env, "bytes must be a number");
    double requested = info[1].As<Napi::Number>().DoubleValue();
    if (!(requested >= 4 && requested <= MAX_MAPPED_BYTES) || requested != std::trunc(requested)) {
      throw FluxRangeError(env, "bytes must be an integer from 4 to 2^31-1, got " + info[1].ToString().Utf8Value());
    }
    bytes = static_cast<size_t>(requested);
    fd = open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, static_cast<mode_t>(mode));
    if (fd < 0) throw SystemError(env, errno, "open", path);
    if (ftruncate(fd, static_cast<off_t>(bytes)) != 0) {
      int error = errno;
      (void)close(fd);
      (void)unlink(path.c_str());  // our own half-made file
      throw SystemError(env, error, "ftruncate", path);
    }
    // Allocate the blocks now: a store to a page the file system cannot back (a full disk or
    // tmpfs) is a SIGBUS, so a full file system must fail here, as ENOSPC. Through syscall():
    // fallocate64 is a newer symbol than the addon's glibc baseline allows. File systems
    // without fallocate (EOPNOTSUPP) keep the sparse file.
    if (syscall(SYS_fallocate, fd, 0, static_cast<off_t>(0), static_cast<off_t>(bytes)) != 0 && errno != EOPNOTSUPP) {
      int error = errno;
      (void)close(fd);
      (void)unlink(path.c_str());
      throw SystemError(env, error, "fallocate", path);
    }
  } else {
    fd = open(path.c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0) throw SystemError(env, errno, "open", path);
    // The size by lseek, not fstat: fstat is a GLIBC_2.33 symbol, and the addon keeps to glibc 2.28.
    off_t size = lseek(fd, 0, SEEK_END);
    if (size < 0) {
      int error = errno;
      (void)close(fd);
      throw SystemError(env, error, "lseek", path);
    }
    if (size < 4 || static_cast<double>(size) > MAX_MAPPED_BYTES) {
      (void)close(fd);
      throw FluxRangeError(env, path + " holds " + std::to_string(size) + " bytes: not a ring file (4 bytes to 2^31-1)");
    }
    bytes = static_cast<size_t>(size);
  }
  void* memory = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  int mapError = errno;
  (void)close(fd);  // the mapping holds the file open
  if (memory == MAP_FAILED) throw SystemError(env, mapError, "mmap", path);
  napi_value buffer;
  napi_status status = napi_create_external_arraybuffer(
      env, memory, bytes,
      // A finalizer cannot report; munmap of our own whole mapping cannot fail.
      [](napi_env, void* data, void* hint) { (void)munmap(data, reinterpret_cast<size_t>(hint)); },
      reinterpret_cast<void*>(bytes), &buffer);
  if (status != napi_ok) {
    (void)munmap(memory, bytes);
    throw FluxUnsupportedError(
        env, "this runtime does not allow external ArrayBuffers (a mapped file cannot be handed to JavaScript)");
  }
  return Napi::Value(env, buffer);
}

Napi::Value FutexWait(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Word word = WordOf(env, info);
  int32_t expected = ExpectedOf(env, info[2]);
  double timeoutMs = TimeoutOf(env, info[3]);
  return Napi::Number::New(env, Wait(word.address, expected, timeoutMs));
}

Napi::Value FutexWaitAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Word word = WordOf(env, info);
  int32_t expected = ExpectedOf(env, info[2]);
  double timeoutMs = TimeoutOf(env, info[3]);
  auto* worker = new FutexWaitWorker(env, info[0].As<Napi::ArrayBuffer>(), word.address, expected, timeoutMs);
  Napi::Promise promise = worker->Promise();
  worker->Queue();  // deletes itself after OnOK
  return promise;
}

Napi::Value FutexWake(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Word word = WordOf(env, info);
  uint32_t count = RequireUint32(env, info[2], "count", 1, INT32_MAX);
  long woken = syscall(SYS_futex, word.address, FUTEX_WAKE, static_cast<int>(count), nullptr, nullptr, 0);
  if (woken < 0) throw SystemError(env, errno, "futex");
  return Napi::Number::New(env, static_cast<double>(woken));
}

}  // namespace flux
