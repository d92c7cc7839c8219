// Futex waits that complete on the event loop: IORING_OP_FUTEX_WAIT (kernel 6.7) on an
// io_uring whose eventfd libuv watches, so a wake-up from another process reaches this
// thread's loop in one hop, as Atomics.waitAsync's does between threads (see futex_waiter.cc).
#pragma once

#include <napi.h>
#include <uv.h>

#include <cstdint>
#include <memory>
#include <unordered_map>
#include <vector>

#include "uring.h"

namespace flux {

class FutexWaiter : public Napi::ObjectWrap<FutexWaiter> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit FutexWaiter(const Napi::CallbackInfo& info);
  ~FutexWaiter() override;

 private:
  Napi::Value Wait(const Napi::CallbackInfo& info);
  Napi::Value Cancel(const Napi::CallbackInfo& info);
  Napi::Value Poll(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);
  void Shutdown();
  static void OnReadable(uv_poll_t* handle, int status, int events);
  static void OnTeardown(void* self);

  Uring ring_;
  int eventFd_ = -1;
  uv_poll_t* handle_ = nullptr;
  Napi::FunctionReference onReady_;
  std::unique_ptr<Napi::AsyncContext> asyncContext_;
  // The buffer of each pending wait, by token: its mapping stays while the kernel waits on it.
  std::unordered_map<uint32_t, Napi::Reference<Napi::ArrayBuffer>> pending_;
  napi_env env_ = nullptr;
  bool hooked_ = false;
};

// Whether this kernel's io_uring has IORING_OP_FUTEX_WAIT (a probe; cheap, callers cache it).
bool FutexWaitSupported();

}  // namespace flux
