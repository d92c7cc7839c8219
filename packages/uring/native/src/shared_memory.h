// Memory shared between processes: a file mapped MAP_SHARED into an external ArrayBuffer,
// and futex waits and wakes on a word in it (see shared_memory.cc).
#pragma once

#include <napi.h>

namespace flux {

Napi::Value MapSharedFile(const Napi::CallbackInfo& info);
Napi::Value FutexWait(const Napi::CallbackInfo& info);
Napi::Value FutexWaitAsync(const Napi::CallbackInfo& info);
Napi::Value FutexWake(const Napi::CallbackInfo& info);
Napi::Value PrefaultAsync(const Napi::CallbackInfo& info);

}  // namespace flux
