#include "in_flight.h"

#include <sys/mman.h>
#include <unistd.h>
#include <uv.h>

#include <cerrno>
#include <ctime>

namespace flux {

namespace {

int64_t NowNs() {
  timespec ts;
  // CLOCK_MONOTONIC exists on every Linux: clock_gettime cannot fail with it.
  (void)clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

// Between two kernel waits while draining, and between two steps on the event loop.
constexpr int64_t DRAIN_WAIT_NS = 10000000;  // 10 ms
constexpr uint64_t RETIRE_STEP_MS = 1;

// An InFlight handed to the event loop by a finalizer, until it is idle or out of time.
struct Retired {
  std::unique_ptr<InFlight> inFlight;
  uv_timer_t* timer = nullptr;
  int64_t deadlineNs = 0;
  Retired* previous = nullptr;
  Retired* next = nullptr;
};

// Per JavaScript thread (one Node environment each): the InFlights retired on its loop, and
// whether its environment is being torn down. Trivially destructible on purpose.
thread_local Retired* retiredHead = nullptr;
thread_local bool tearingDown = false;

void Unlink(Retired* r) {
  if (r->previous != nullptr)
    r->previous->next = r->next;
  else
    retiredHead = r->next;
  if (r->next != nullptr) r->next->previous = r->previous;
}

void OnTimerClosed(uv_handle_t* handle) { delete reinterpret_cast<uv_timer_t*>(handle); }

// Frees or leaks r's InFlight, closes its timer and forgets it.
void Finish(Retired* r, bool idle) {
  if (idle)
    r->inFlight->Release();
  else
    r->inFlight->Leak();
  Unlink(r);
  // uv_close returns nothing; the timer's memory is freed by its close callback.
  uv_close(reinterpret_cast<uv_handle_t*>(r->timer), OnTimerClosed);
  delete r;
}

void OnRetireStep(uv_timer_t* timer) {
  auto* r = static_cast<Retired*>(timer->data);
  if (r->inFlight->Step()) return Finish(r, true);
  if (NowNs() >= r->deadlineNs) Finish(r, false);
}

// The environment is ending: no event-loop turn is guaranteed any more, so each retired
// InFlight is drained here, bounded by its own deadline, as close() would.
void OnEnvironmentTeardown(void*) {
  tearingDown = true;
  while (retiredHead != nullptr) {
    Retired* r = retiredHead;
    int64_t left = r->deadlineNs - NowNs();
    Finish(r, r->inFlight->DrainFor(left > 0 ? left : 0));
  }
}

}  // namespace

void InFlight::CancelReceive() {
  if (!ring.Ready() || !receiveArmed || cancelSent) return;
  io_uring_sqe* sqe = ring.NextSqe();
  // SQ full: the drain submits what is queued and tries again on its next step.
  if (sqe == nullptr) return;
  sqe->opcode = IORING_OP_ASYNC_CANCEL;
  sqe->addr = KIND_RECV;
  sqe->user_data = KIND_CANCEL;
  cancelSent = true;
}

void InFlight::Discard() {
  unsigned ready = ring.CqReady();
  for (unsigned i = 0; i < ready; i++) {
    const io_uring_cqe* cqe = ring.Cqe(i);
    uint64_t kind = cqe->user_data & KIND_MASK;
    bool more = (cqe->flags & IORING_CQE_F_MORE) != 0;
    if (kind == KIND_SEND) {
      // Final: a zero-copy send's notification, or a CQE that announces none.
      if ((cqe->flags & IORING_CQE_F_NOTIF) != 0 || !more) slots[cqe->user_data & SLOT_MASK].busy = false;
    } else if (kind == KIND_RECV && !more) {
      receiveArmed = false;
    }
  }
  if (ready > 0) ring.CqAdvance(ready);
}

bool InFlight::Idle() const {
  if (receiveArmed) return false;
  for (const SendSlot& slot : slots) {
    if (slot.busy) return false;
  }
  return true;
}

bool InFlight::Step() {
  if (!ring.Ready()) return true;
  CancelReceive();  // a no-op once sent
  // Submits and (deferred task run) posts completions; never waits. A failure (EAGAIN,
  // EBUSY: short of memory, CQ backed up) leaves the SQEs queued for the next step; the
  // caller's deadline bounds the retries.
  (void)(ring.deferTaskRun() ? ring.RunDeferred() : ring.Submit());
  Discard();
  return Idle();
}

bool InFlight::DrainFor(int64_t budgetNs) {
  int64_t deadline = NowNs() + budgetNs;
  for (;;) {
    if (Step()) return true;
    int64_t left = deadline - NowNs();
    if (left <= 0) return false;
    int r = ring.Submit(1, left < DRAIN_WAIT_NS ? left : DRAIN_WAIT_NS);
    // EINTR, EAGAIN, EBUSY: try again. Anything else means the ring cannot wait: give up
    // (the caller keeps the memory alive) rather than spin until the deadline.
    if (r < 0 && r != -EINTR && r != -EAGAIN && r != -EBUSY) return false;
  }
}

void InFlight::Release() {
  // Nothing is in flight, so nothing below can fail in a way that matters, and there is
  // nobody to report to (a finalizer or a timer may be the caller): close and munmap
  // results are ignored. close() on a UDP socket releases the descriptor even when it
  // reports an error.
  if (fd >= 0) (void)close(fd);
  fd = -1;
  ring.Destroy();  // unregisters the buffers and the buffer ring
  if (bufRing != nullptr) (void)munmap(bufRing, bufRingBytes);
  bufRing = nullptr;
  registered.clear();
  if (!receiveRef.IsEmpty()) receiveRef.Reset();
}

void InFlight::Leak() {
  // Something the kernel might still touch did not complete in time: keep its memory alive
  // for the life of the process rather than free it early (see SAFETY.md). The buffer
  // ring's mapping is kept too. close() results are ignored as in Release().
  if (fd >= 0) (void)close(fd);
  fd = -1;
  ring.Destroy();
  bufRing = nullptr;  // mapped for good
  for (auto& r : registered) r->ref.SuppressDestruct();
  registered.clear();
  receiveRef.SuppressDestruct();
}

void Retire(napi_env env, std::unique_ptr<InFlight> inFlight) {
  if (inFlight->Step()) return inFlight->Release();
  if (tearingDown) {
    // The environment is ending (a finalizer run by its teardown, not by the GC): no
    // event-loop turn will come, so drain here, bounded, as close() does.
    bool idle = inFlight->DrainFor(TEARDOWN_BUDGET_NS);
    return idle ? inFlight->Release() : inFlight->Leak();
  }
  uv_loop_t* loop = nullptr;
  auto* timer = new uv_timer_t;
  // Neither can fail for the loop of a live environment; if one does, nothing may free the
  // memory safely without waiting, so it is kept for good (never freed early).
  if (napi_get_uv_event_loop(env, &loop) != napi_ok || loop == nullptr || uv_timer_init(loop, timer) != 0) {
    delete timer;
    return inFlight->Leak();
  }
  auto* r = new Retired;
  r->inFlight = std::move(inFlight);
  r->timer = timer;
  r->deadlineNs = NowNs() + TEARDOWN_BUDGET_NS;
  timer->data = r;
  r->next = retiredHead;
  if (retiredHead != nullptr) retiredHead->previous = r;
  retiredHead = r;
  // A forgotten socket's teardown does not keep the process alive (uv_unref returns nothing).
  uv_unref(reinterpret_cast<uv_handle_t*>(timer));
  // uv_timer_start fails only for a closing handle or a null callback: neither here. Should
  // it fail anyway, Finish() leaks (the memory is kept, never freed early).
  if (uv_timer_start(timer, OnRetireStep, RETIRE_STEP_MS, RETIRE_STEP_MS) != 0) Finish(r, false);
}

void InstallTeardownHook(napi_env env) {
  tearingDown = false;  // a new environment on this thread
  // Registered after Node-API's own hook for this environment (which finalizes the objects
  // left), so it runs before it: hooks run in reverse order of registration.
  NAPI_THROW_IF_FAILED_VOID(env, napi_add_env_cleanup_hook(env, OnEnvironmentTeardown, nullptr));
}

}  // namespace flux
