// Event-loop delivery: onReady() registers an eventfd with the ring (the kernel signals it
// when it posts a CQE) and watches it with a uv_poll handle on this thread's loop; the
// handle's callback calls the JavaScript callback, which calls poll().
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>

#include "errors.h"
#include "udp_socket.h"

namespace flux {

namespace {

void OnReadyClosed(uv_handle_t* handle) { delete reinterpret_cast<uv_poll_t*>(handle); }

}  // namespace

void UdpSocket::OnEventFdReadable(uv_poll_t* handle, int status, int events) {
  auto* self = static_cast<UdpSocket*>(handle->data);
  // status < 0: libuv could not poll the eventfd (it stops the handle). The callback still
  // runs once, so that poll() reaps whatever is ready and reports its own errors.
  uint64_t value;
  // Empties the counter; read fails with EAGAIN once it is zero (the fd is non-blocking),
  // which is the loop's end, not an error.
  while (read(self->eventFd_, &value, sizeof value) > 0) {}
  if (self->onReady_.IsEmpty()) return;
  Napi::Env env = self->onReady_.Env();
  Napi::HandleScope scope(env);
  try {
    self->onReady_.MakeCallback(self->Value(), {}, *self->asyncContext_);
  } catch (const Napi::Error& error) {
    // An exception from the callback goes to the process like any callback's would. Should
    // even that fail, nothing is left to report it to: the exception stays pending.
    (void)napi_fatal_exception(env, error.Value());
  }
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
  uv_loop_t* loop = nullptr;
  NAPI_THROW_IF_FAILED(env, napi_get_uv_event_loop(env, &loop), Napi::Value());
  eventFd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (eventFd_ < 0) throw SystemError(env, errno, "eventfd");
  int r = SysRegister(io_->ring.fd(), IORING_REGISTER_EVENTFD, &eventFd_, 1);
  if (r < 0) {
    StopReady();
    throw SystemError(env, -r, "io_uring_register", "(IORING_REGISTER_EVENTFD)");
  }
  auto* handle = new uv_poll_t;
  r = uv_poll_init(loop, handle, eventFd_);
  if (r != 0) {
    delete handle;  // not initialised: nothing for libuv to close
    StopReady();
    throw SystemError(env, -r, "uv_poll_init");
  }
  readyHandle_ = handle;
  readyHandle_->data = this;
  if (!refed_) uv_unref(reinterpret_cast<uv_handle_t*>(readyHandle_));
  r = uv_poll_start(readyHandle_, UV_READABLE, OnEventFdReadable);
  if (r != 0) {
    StopReady();
    throw SystemError(env, -r, "uv_poll_start");
  }
  // Completions that were ready before the eventfd existed signalled nothing: kick once.
  if (io_->ring.CqReady() > 0) {
    uint64_t one = 1;
    // Fails only with EAGAIN, when the counter is already at its maximum: signalled anyway.
    ssize_t ignored = write(eventFd_, &one, sizeof one);
    (void)ignored;
  }
  return env.Undefined();
}

// Called from close(), a finalizer and onReady's own failures: nothing here can be reported,
// and nothing needs to be (the handle and the eventfd go away in any case).
void UdpSocket::StopReady() {
  if (readyHandle_ != nullptr) {
    // uv_poll_stop cannot fail on an initialised handle; uv_close returns nothing and frees
    // the handle in its callback, on a later loop turn.
    (void)uv_poll_stop(readyHandle_);
    uv_close(reinterpret_cast<uv_handle_t*>(readyHandle_), OnReadyClosed);
    readyHandle_ = nullptr;
  }
  if (eventFd_ >= 0) {
    // Fails only when no eventfd is registered (EINVAL, an onReady() whose registration
    // failed) or the ring is gone: the kernel then holds no reference to this eventfd.
    if (io_ && io_->ring.Ready()) (void)SysRegister(io_->ring.fd(), IORING_UNREGISTER_EVENTFD, nullptr, 0);
    // close() of an eventfd releases the descriptor even when it reports an error.
    (void)close(eventFd_);
  }
  eventFd_ = -1;
  if (!onReady_.IsEmpty()) onReady_.Reset();
}

// setRef(bool): whether a watching onReady keeps the event loop alive (default true).
Napi::Value UdpSocket::SetRef(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsBoolean()) throw FluxTypeError(env, "ref must be a boolean");
  refed_ = info[0].As<Napi::Boolean>().Value();
  if (readyHandle_ != nullptr) {
    // uv_ref and uv_unref return nothing.
    if (refed_)
      uv_ref(reinterpret_cast<uv_handle_t*>(readyHandle_));
    else
      uv_unref(reinterpret_cast<uv_handle_t*>(readyHandle_));
  }
  return env.Undefined();
}

}  // namespace flux
