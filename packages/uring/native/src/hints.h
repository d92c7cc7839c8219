// Placement hints exported to JavaScript (see hints.cc).
#pragma once

#include <napi.h>

namespace flux {

Napi::Value SetAffinity(const Napi::CallbackInfo& info);
Napi::Value GetAffinity(const Napi::CallbackInfo& info);
Napi::Value NumaInfo(const Napi::CallbackInfo& info);
Napi::Value BindToNode(const Napi::CallbackInfo& info);
Napi::Value AdviseHugePages(const Napi::CallbackInfo& info);
Napi::Value HugePageResidency(const Napi::CallbackInfo& info);
Napi::Value AllocateHugeBuffer(const Napi::CallbackInfo& info);

}  // namespace flux
