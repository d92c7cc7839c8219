// FutexWaiter: futex waits on the event loop.
//
//   JavaScript                          native                               kernel
//   new FutexWaiter(onReady)            io_uring (8 SQEs), an eventfd it signals on every
//                                       CQE, a uv_poll on the eventfd (unref'd: a wait never
//                                       keeps the process alive by itself; the caller decides)
//   wait(buffer, off, expected, token)  FUTEX_WAIT SQE: addr = the word, addr2 = expected,  sleeps until FUTEX_WAKE
//                                       addr3 = any bit, fd = FUTEX2_SIZE_U32 (not private:  on that word from any
//                                       keyed by the file's page, like futexWait)             process, or cancel
//   cancel(token)                       ASYNC_CANCEL of that token (its timeout passed)
//   onReady() -> poll(records)          reads CQEs: records[2i] = token, records[2i+1] = result
//                                       (0 woken, -EAGAIN the word had changed, -ECANCELED cancelled)
//
// user_data is the token (uint32); a cancel's own CQE carries CANCEL_TOKEN and is not reported.
// Not thread-safe: one waiter belongs to the JavaScript thread that made it.
#include "futex_waiter.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cmath>
#include <string>

#include "errors.h"

namespace flux {

namespace {

// <linux/io_uring.h> here predates them (Linux 6.7 uapi): IORING_OP_FUTEX_WAIT and futex2's size flag.
constexpr uint8_t OP_FUTEX_WAIT = 51;
constexpr uint32_t FUTEX2_SIZE_U32_FLAG = 0x02;
constexpr uint64_t FUTEX_BITSET_ANY = 0xffffffffu;
constexpr uint64_t CANCEL_TOKEN = 1ull << 32;  // outside the uint32 tokens
constexpr unsigned ENTRIES = 64;

void OnHandleClosed(uv_handle_t* handle) { delete reinterpret_cast<uv_poll_t*>(handle); }

}  // namespace

bool FutexWaitSupported() {
  Uring ring;
  if (ring.Init(4, 8) < 0) return false;
  const unsigned opCount = 256;
  std::vector<char> bytes(sizeof(io_uring_probe) + opCount * sizeof(io_uring_probe_op), 0);
  auto* probe = reinterpret_cast<io_uring_probe*>(bytes.data());
  bool supported = SysRegister(ring.fd(), IORING_REGISTER_PROBE, probe, opCount) == 0 && OP_FUTEX_WAIT <= probe->last_op &&
                   (probe->ops[OP_FUTEX_WAIT].flags & IO_URING_OP_SUPPORTED) != 0;
  ring.Destroy();
  return supported;
}

Napi::Function FutexWaiter::Define(Napi::Env env) {
  return DefineClass(env, "FutexWaiter",
                     {
                         InstanceMethod("wait", &FutexWaiter::Wait),
                         InstanceMethod("cancel", &FutexWaiter::Cancel),
                         InstanceMethod("poll", &FutexWaiter::Poll),
                         InstanceMethod("close", &FutexWaiter::Close),
                     });
}

// new FutexWaiter(onReady): onReady() is called on this thread's loop when completions are ready.
FutexWaiter::FutexWaiter(const Napi::CallbackInfo& info) : Napi::ObjectWrap<FutexWaiter>(info) {
  Napi::Env env = info.Env();
  env_ = env;
  if (!info[0].IsFunction()) throw FluxTypeError(env, "onReady must be a function");
  int r = ring_.Init(ENTRIES, ENTRIES * 2);
  if (r < 0) throw SystemError(env, -r, "io_uring_setup");
  onReady_ = Napi::Persistent(info[0].As<Napi::Function>());
  asyncContext_ = std::make_unique<Napi::AsyncContext>(env, "FluxFutexReady");
  uv_loop_t* loop = nullptr;
  NAPI_THROW_IF_FAILED_VOID(env, napi_get_uv_event_loop(env, &loop));
  eventFd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (eventFd_ < 0) {
    int error = errno;
    Shutdown();
    throw SystemError(env, error, "eventfd");
  }
  r = SysRegister(ring_.fd(), IORING_REGISTER_EVENTFD, &eventFd_, 1);
  if (r < 0) {
    Shutdown();
    throw SystemError(env, -r, "io_uring_register", "(IORING_REGISTER_EVENTFD)");
  }
  handle_ = new uv_poll_t;
  r = uv_poll_init(loop, handle_, eventFd_);
  if (r != 0) {
    delete handle_;  // not initialised: nothing for libuv to close
    handle_ = nullptr;
    Shutdown();
    throw SystemError(env, -r, "uv_poll_init");
  }
  handle_->data = this;
  uv_unref(reinterpret_cast<uv_handle_t*>(handle_));
  r = uv_poll_start(handle_, UV_READABLE, OnReadable);
  if (r != 0) {
    Shutdown();
    throw SystemError(env, -r, "uv_poll_start");
  }
  NAPI_THROW_IF_FAILED_VOID(env, napi_add_env_cleanup_hook(env, OnTeardown, this));
  hooked_ = true;
}

FutexWaiter::~FutexWaiter() {
  Shutdown();
  if (hooked_) (void)napi_remove_env_cleanup_hook(env_, OnTeardown, this);
}

void FutexWaiter::OnTeardown(void* self) {
  auto* waiter = static_cast<FutexWaiter*>(self);
  waiter->hooked_ = false;
  waiter->Shutdown();
}

// Idempotent: the ring's close makes the kernel cancel every pending wait.
void FutexWaiter::Shutdown() {
  if (handle_ != nullptr) {
    (void)uv_poll_stop(handle_);  // cannot fail on an initialised handle
    uv_close(reinterpret_cast<uv_handle_t*>(handle_), OnHandleClosed);
    handle_ = nullptr;
  }
  if (eventFd_ >= 0) (void)close(eventFd_);  // releases the descriptor even when it reports an error
  eventFd_ = -1;
  ring_.Destroy();
  // The buffers' references go (their destructors do not throw); onReady_ stays until the
  // object's own destruction: Reset() throws when the environment is being torn down.
  pending_.clear();
}

void FutexWaiter::OnReadable(uv_poll_t* handle, int, int) {
  auto* self = static_cast<FutexWaiter*>(handle->data);
  uint64_t value;
  while (read(self->eventFd_, &value, sizeof value) > 0) {}  // EAGAIN once empty: the loop's end
  if (self->onReady_.IsEmpty() || !self->ring_.Ready()) return;
  // The C API, not the wrappers: while a worker's environment is being torn down (terminate()
  // during a blocking wait) the loop may still run this callback, JavaScript can no longer be
  // called, and a wrapper's failure would throw a C++ exception nothing can catch.
  napi_env env = self->env_;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value callback = nullptr;
  napi_value receiver = nullptr;
  napi_value result;
  if (napi_get_reference_value(env, static_cast<napi_ref>(self->onReady_), &callback) == napi_ok && callback != nullptr &&
      napi_get_reference_value(env, static_cast<napi_ref>(*self), &receiver) == napi_ok && receiver != nullptr &&
      napi_make_callback(env, *self->asyncContext_, receiver, callback, 0, nullptr, &result) == napi_pending_exception) {
    napi_value exception;
    // An exception from the callback goes to the process, as any callback's would.
    if (napi_get_and_clear_last_exception(env, &exception) == napi_ok) (void)napi_fatal_exception(env, exception);
  }
  (void)napi_close_handle_scope(env, scope);
}

// wait(buffer, byteOffset, expected, token): 0 submitted, or -errno (-EBUSY: every entry in use).
Napi::Value FutexWaiter::Wait(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!ring_.Ready()) throw FluxStateError(env, "FutexWaiter is closed");
  if (!info[0].IsArrayBuffer()) throw FluxTypeError(env, "buffer must be an ArrayBuffer (a mapped file's)");
  Napi::ArrayBuffer buffer = info[0].As<Napi::ArrayBuffer>();
  uint32_t byteOffset = RequireUint32(env, info[1], "byteOffset", 0, UINT32_MAX - 3);
  if (byteOffset % 4 != 0 || static_cast<size_t>(byteOffset) + 4 > buffer.ByteLength()) {
    throw FluxRangeError(env, "byteOffset must be a multiple of 4 inside the buffer, got " + std::to_string(byteOffset));
  }
  if (!info[2].IsNumber()) throw FluxTypeError(env, "expected must be a number");
  double expected = info[2].As<Napi::Number>().DoubleValue();
  if (!(expected >= INT32_MIN && expected <= INT32_MAX) || expected != std::trunc(expected)) {
    throw FluxRangeError(env, "expected must be an int32, got " + info[2].ToString().Utf8Value());
  }
  uint32_t token = RequireUint32(env, info[3], "token", 0, UINT32_MAX);
  if (pending_.count(token) != 0) throw FluxRangeError(env, "token " + std::to_string(token) + " is already waiting");
  if (pending_.size() >= ENTRIES) return Napi::Number::New(env, -EBUSY);
  io_uring_sqe* sqe = ring_.NextSqe();
  if (sqe == nullptr) return Napi::Number::New(env, -EBUSY);
  sqe->opcode = OP_FUTEX_WAIT;
  sqe->addr = reinterpret_cast<uint64_t>(static_cast<uint8_t*>(buffer.Data()) + byteOffset);
  sqe->addr2 = static_cast<uint32_t>(static_cast<int32_t>(expected));  // futex2 compares the u32 word
  sqe->addr3 = FUTEX_BITSET_ANY;
  sqe->fd = static_cast<int32_t>(FUTEX2_SIZE_U32_FLAG);
  sqe->user_data = token;
  int r = ring_.Submit();
  if (r < 0) return Napi::Number::New(env, r);
  pending_.emplace(token, Napi::Persistent(buffer));
  return Napi::Number::New(env, 0);
}

// cancel(token): asks the kernel to end that wait (its CQE then says -ECANCELED); 0 or -errno.
Napi::Value FutexWaiter::Cancel(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!ring_.Ready()) return Napi::Number::New(env, 0);
  uint32_t token = RequireUint32(env, info[0], "token", 0, UINT32_MAX);
  if (pending_.count(token) == 0) return Napi::Number::New(env, 0);  // already completed
  io_uring_sqe* sqe = ring_.NextSqe();
  if (sqe == nullptr) return Napi::Number::New(env, -EBUSY);
  sqe->opcode = IORING_OP_ASYNC_CANCEL;
  sqe->addr = token;
  sqe->user_data = CANCEL_TOKEN;
  return Napi::Number::New(env, ring_.Submit());
}

// poll(records: Int32Array): writes (token, result) pairs of completed waits; returns how many.
Napi::Value FutexWaiter::Poll(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) {
    throw FluxTypeError(env, "records must be an Int32Array");
  }
  Napi::Int32Array records = info[0].As<Napi::Int32Array>();
  if (!ring_.Ready()) return Napi::Number::New(env, 0);
  size_t capacity = records.ElementLength() / 2;
  unsigned ready = ring_.CqReady();
  size_t written = 0;
  unsigned consumed = 0;
  for (; consumed < ready && written < capacity; consumed++) {
    const io_uring_cqe* cqe = ring_.Cqe(consumed);
    if (cqe->user_data == CANCEL_TOKEN) continue;
    auto token = static_cast<uint32_t>(cqe->user_data);
    pending_.erase(token);
    records[written * 2] = static_cast<int32_t>(token);
    records[written * 2 + 1] = cqe->res;
    written++;
  }
  ring_.CqAdvance(consumed);
  return Napi::Number::New(env, static_cast<double>(written));
}

Napi::Value FutexWaiter::Close(const Napi::CallbackInfo& info) {
  Shutdown();
  return info.Env().Undefined();
}

}  // namespace flux
