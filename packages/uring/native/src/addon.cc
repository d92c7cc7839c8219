// The module: capability(), the UringUdpSocket class, the placement hints and seamLayout()
// (the constants of seam_layout.h, for the test that holds seam-layout.ts to them). The typed
// surface is declared once, in packages/uring/src/native.ts.
#include <napi.h>

#include "capability.h"
#include "futex_waiter.h"
#include "hints.h"
#include "in_flight.h"
#include "seam_layout.h"
#include "shared_memory.h"
#include "udp_socket.h"

namespace flux {

namespace {

Napi::Value CapabilityReport(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Capability c = ProbeCapability();
  Napi::Object o = Napi::Object::New(env);
  o.Set("usable", c.usable);
  o.Set("reason", c.reason);
  o.Set("setupErrno", c.setupErrno);
  o.Set("kernelRelease", c.kernelRelease);
  Napi::Object ops = Napi::Object::New(env);
  ops.Set("send", c.send);
  ops.Set("sendmsg", c.sendmsg);
  ops.Set("sendZeroCopy", c.sendZeroCopy);
  ops.Set("sendmsgZeroCopy", c.sendmsgZeroCopy);
  ops.Set("recvmsg", c.recvmsg);
  ops.Set("multishotReceive", c.multishotReceive);
  ops.Set("providedBufferRings", c.providedBufferRings);
  ops.Set("registeredBuffers", c.registeredBuffers);
  ops.Set("boundedWait", c.extArg);
  ops.Set("udpSegmentation", c.udpSegmentation);
  ops.Set("udpReceiveCoalescing", c.udpReceiveCoalescing);
  o.Set("operations", ops);
  return o;
}

}  // namespace

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  InstallTeardownHook(env);
  exports.Set("capability", Napi::Function::New(env, CapabilityReport, "capability"));
  exports.Set("UringUdpSocket", UdpSocket::Define(env));
  exports.Set("setAffinity", Napi::Function::New(env, SetAffinity, "setAffinity"));
  exports.Set("getAffinity", Napi::Function::New(env, GetAffinity, "getAffinity"));
  exports.Set("numaInfo", Napi::Function::New(env, NumaInfo, "numaInfo"));
  exports.Set("bindToNode", Napi::Function::New(env, BindToNode, "bindToNode"));
  exports.Set("adviseHugePages", Napi::Function::New(env, AdviseHugePages, "adviseHugePages"));
  exports.Set("hugePageResidency", Napi::Function::New(env, HugePageResidency, "hugePageResidency"));
  exports.Set("allocateHugeBuffer", Napi::Function::New(env, AllocateHugeBuffer, "allocateHugeBuffer"));
  exports.Set("mapSharedFile", Napi::Function::New(env, MapSharedFile, "mapSharedFile"));
  exports.Set("futexWait", Napi::Function::New(env, FutexWait, "futexWait"));
  exports.Set("prefaultAsync", Napi::Function::New(env, PrefaultAsync, "prefaultAsync"));
  exports.Set("futexWaitAsync", Napi::Function::New(env, FutexWaitAsync, "futexWaitAsync"));
  exports.Set("FutexWaiter", FutexWaiter::Define(env));
  exports.Set("futexWaitSupported",
              Napi::Function::New(
                  env, [](const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), FutexWaitSupported()); },
                  "futexWaitSupported"));
  exports.Set("futexWake", Napi::Function::New(env, FutexWake, "futexWake"));
  exports.Set("seamLayout", Napi::Function::New(env, SeamLayout, "seamLayout"));
  return exports;
}

}  // namespace flux

static Napi::Object InitFluxUring(Napi::Env env, Napi::Object exports) { return flux::Init(env, exports); }

NODE_API_MODULE(flux_uring, InitFluxUring)
