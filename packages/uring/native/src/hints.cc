// Placement hints: CPU affinity, NUMA binding, huge pages. Each reports whether it took
// effect and why not; none throws for a refusal by the system (bad arguments do throw).
#include "hints.h"

#include <sched.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "errors.h"

namespace flux {

namespace {

constexpr size_t PAGE_BYTES = 4096;
constexpr size_t HUGE_PAGE_BYTES = 2 * 1024 * 1024;
// <linux/mempolicy.h> values (no libnuma).
constexpr int MPOL_BIND_MODE = 2;
constexpr unsigned MPOL_MF_MOVE_FLAG = 1u << 1;

std::string ReadFirstLine(const char* path) {
  std::ifstream in(path);
  std::string line;
  if (in) std::getline(in, line);
  return line;
}

// "0-3,5" -> [0,1,2,3,5]
std::vector<int> ParseList(const std::string& text) {
  std::vector<int> out;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    int a, b;
    if (std::sscanf(item.c_str(), "%d-%d", &a, &b) == 2) {
      for (int i = a; i <= b; i++) out.push_back(i);
    } else if (std::sscanf(item.c_str(), "%d", &a) == 1) {
      out.push_back(a);
    }
  }
  return out;
}

Napi::Array ToArray(Napi::Env env, const std::vector<int>& values) {
  Napi::Array a = Napi::Array::New(env, values.size());
  for (size_t i = 0; i < values.size(); i++) a.Set(static_cast<uint32_t>(i), values[i]);
  return a;
}

std::vector<int> Affinity() {
  std::vector<int> cpus;
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    for (int i = 0; i < CPU_SETSIZE; i++)
      if (CPU_ISSET(i, &set)) cpus.push_back(i);
  }
  return cpus;
}

Napi::Object Outcome(Napi::Env env, bool applied, const std::string& reason) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("applied", applied);
  o.Set("reason", reason);
  return o;
}

// The widest page-aligned (alignment bytes) range inside [data, data+length).
bool Interior(uint8_t* data, size_t length, size_t alignment, uintptr_t* start, size_t* bytes) {
  uintptr_t begin = (reinterpret_cast<uintptr_t>(data) + alignment - 1) & ~(alignment - 1);
  uintptr_t end = (reinterpret_cast<uintptr_t>(data) + length) & ~(alignment - 1);
  if (end <= begin) return false;
  *start = begin;
  *bytes = end - begin;
  return true;
}

std::string TransparentHugePageMode() {
  std::string line = ReadFirstLine("/sys/kernel/mm/transparent_hugepage/enabled");  // "always [madvise] never"
  size_t open = line.find('['), close = line.find(']');
  if (open == std::string::npos || close == std::string::npos) return "unavailable";
  return line.substr(open + 1, close - open - 1);
}

}  // namespace

// setAffinity(cpus: number[]): pins the calling thread.
Napi::Value SetAffinity(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsArray()) throw FluxTypeError(env, "cpus must be an array of CPU numbers");
  Napi::Array list = info[0].As<Napi::Array>();
  cpu_set_t set;
  CPU_ZERO(&set);
  for (uint32_t i = 0; i < list.Length(); i++) {
    Napi::Value v = list.Get(i);
    double cpu = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : -1;
    if (!(cpu >= 0 && cpu < CPU_SETSIZE) || cpu != static_cast<int>(cpu)) {
      throw FluxRangeError(env, "cpus[" + std::to_string(i) + "] must be a CPU number from 0 to " +
                                    std::to_string(CPU_SETSIZE - 1) + ", got " + v.ToString().Utf8Value());
    }
    CPU_SET(static_cast<int>(cpu), &set);
  }
  if (list.Length() == 0) throw FluxRangeError(env, "cpus must name at least one CPU");
  bool ok = sched_setaffinity(0, sizeof set, &set) == 0;
  Napi::Object o = Outcome(env, ok, ok ? "" : std::string("sched_setaffinity: ") + std::strerror(errno));
  o.Set("cpus", ToArray(env, Affinity()));
  return o;
}

Napi::Value GetAffinity(const Napi::CallbackInfo& info) { return ToArray(info.Env(), Affinity()); }

Napi::Value NumaInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  std::string online = ReadFirstLine("/sys/devices/system/node/online");
  o.Set("nodes", ToArray(env, online.empty() ? std::vector<int>{0} : ParseList(online)));
  o.Set("source", online.empty() ? "no /sys/devices/system/node: one node assumed" : "/sys/devices/system/node/online");
  unsigned cpu = 0, node = 0;
  if (syscall(SYS_getcpu, &cpu, &node, nullptr) == 0) {
    o.Set("cpu", cpu);
    o.Set("node", node);
  }
  o.Set("transparentHugePages", TransparentHugePageMode());
  std::string reserved = ReadFirstLine("/proc/sys/vm/nr_hugepages");
  o.Set("hugePagesReserved", reserved.empty() ? 0 : std::stoi(reserved));
  return o;
}

// bindToNode(view, node): MPOL_BIND of the view's whole pages to `node`, moving pages
// already touched.
Napi::Value BindToNode(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Bytes bytes = BytesOf(env, info[0], "buffer");
  if (!info[1].IsNumber()) throw FluxTypeError(env, "node must be a number");
  double node = info[1].As<Napi::Number>().DoubleValue();
  if (!(node >= 0 && node < 64) || node != static_cast<int>(node)) {
    throw FluxRangeError(env, "node must be a NUMA node number from 0 to 63, got " + info[1].ToString().Utf8Value());
  }
  uintptr_t start;
  size_t length;
  if (!Interior(bytes.data, bytes.length, PAGE_BYTES, &start, &length)) {
    Napi::Object o = Outcome(env, false, "the buffer holds no whole page");
    o.Set("bytes", 0);
    return o;
  }
  unsigned long mask = 1ul << static_cast<int>(node);
  long r = syscall(SYS_mbind, start, length, MPOL_BIND_MODE, &mask, 64, MPOL_MF_MOVE_FLAG);
  Napi::Object o = Outcome(env, r == 0, r == 0 ? "" : std::string("mbind: ") + std::strerror(errno));
  o.Set("bytes", static_cast<double>(r == 0 ? length : 0));
  return o;
}

// adviseHugePages(view): MADV_HUGEPAGE on the view's 2 MiB-aligned interior.
Napi::Value AdviseHugePages(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Bytes bytes = BytesOf(env, info[0], "buffer");
  std::string mode = TransparentHugePageMode();
  uintptr_t start;
  size_t length;
  Napi::Object o;
  if (!Interior(bytes.data, bytes.length, HUGE_PAGE_BYTES, &start, &length)) {
    o = Outcome(env, false, "the buffer holds no 2 MiB-aligned 2 MiB range (make it at least 4 MiB)");
    length = 0;
  } else if (mode == "never" || mode == "unavailable") {
    o = Outcome(env, false, "transparent huge pages are " + mode + " on this system");
    length = 0;
  } else if (madvise(reinterpret_cast<void*>(start), length, MADV_HUGEPAGE) != 0) {
    o = Outcome(env, false, std::string("madvise(MADV_HUGEPAGE): ") + std::strerror(errno));
    length = 0;
  } else {
    o = Outcome(env, true, "");
  }
  o.Set("bytes", static_cast<double>(length));
  o.Set("mode", mode);
  return o;
}

// hugePageResidency(view): how many bytes of the mappings under the view the kernel backs
// with transparent huge pages right now (AnonHugePages in /proc/self/smaps, summed over
// every mapping the view overlaps). madvise only asks; this says what was granted.
Napi::Value HugePageResidency(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Bytes bytes = BytesOf(env, info[0], "buffer");
  uintptr_t begin = reinterpret_cast<uintptr_t>(bytes.data);
  uintptr_t end = begin + bytes.length;
  Napi::Object o = Napi::Object::New(env);
  std::ifstream smaps("/proc/self/smaps");
  if (!smaps) {
    o.Set("hugePageBytes", 0);
    o.Set("reason", "cannot read /proc/self/smaps");
    return o;
  }
  double hugeBytes = 0;
  bool overlapping = false;
  std::string line;
  while (std::getline(smaps, line)) {
    unsigned long start = 0, stop = 0;
    unsigned long kib = 0;
    if (std::sscanf(line.c_str(), "%lx-%lx ", &start, &stop) == 2) {
      overlapping = bytes.length > 0 && start < end && stop > begin;  // a mapping's first line
    } else if (overlapping && std::sscanf(line.c_str(), "AnonHugePages: %lu kB", &kib) == 1) {
      hugeBytes += static_cast<double>(kib) * 1024;
    }
  }
  o.Set("hugePageBytes", hugeBytes);
  o.Set("reason", "");
  return o;
}

// allocateHugeBuffer(bytes): an ArrayBuffer backed by MAP_HUGETLB pages when some are
// reserved, else by ordinary pages advised for transparent huge pages.
Napi::Value AllocateHugeBuffer(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsNumber()) throw FluxTypeError(env, "bytes must be a number");
  double requested = info[0].As<Napi::Number>().DoubleValue();
  if (!(requested >= 1 && requested <= (1ull << 40)) || requested != static_cast<double>(static_cast<uint64_t>(requested))) {
    throw FluxRangeError(env, "bytes must be an integer from 1 to 2^40, got " + info[0].ToString().Utf8Value());
  }
  size_t length = (static_cast<size_t>(requested) + HUGE_PAGE_BYTES - 1) & ~(HUGE_PAGE_BYTES - 1);
  bool hugeTlb = true, transparent = false;
  std::string reason;
  void* memory = mmap(nullptr, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
  if (memory == MAP_FAILED) {
    reason = std::string("MAP_HUGETLB: ") + std::strerror(errno) + " (no huge pages reserved: vm.nr_hugepages)";
    hugeTlb = false;
    memory = mmap(nullptr, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (memory == MAP_FAILED) throw SystemError(env, errno, "mmap");
    transparent = madvise(memory, length, MADV_HUGEPAGE) == 0;
    if (!transparent) reason += std::string("; madvise(MADV_HUGEPAGE): ") + std::strerror(errno);
  }
  napi_value buffer;
  napi_status status = napi_create_external_arraybuffer(
      env, memory, static_cast<size_t>(requested),
      // A finalizer cannot report; munmap of our own whole mapping cannot fail.
      [](napi_env, void* data, void* hint) { (void)munmap(data, reinterpret_cast<size_t>(hint)); },
      reinterpret_cast<void*>(length), &buffer);
  if (status != napi_ok) {
    (void)munmap(memory, length);  // our own mapping, never shared: cannot fail
    throw FluxUnsupportedError(env, "this runtime does not allow external ArrayBuffers");
  }
  Napi::Object o = Napi::Object::New(env);
  o.Set("buffer", buffer);
  o.Set("hugeTlb", hugeTlb);
  o.Set("transparent", transparent);
  o.Set("reason", reason);
  return o;
}

}  // namespace flux
