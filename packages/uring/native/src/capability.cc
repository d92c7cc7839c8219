#include "capability.h"

#include <netinet/in.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "udp_options.h"
#include "uring.h"

namespace flux {

namespace {

int ReadSysctl(const char* path) {
  FILE* f = std::fopen(path, "r");
  if (f == nullptr) return -1;
  int value = -1;
  if (std::fscanf(f, "%d", &value) != 1) value = -1;
  (void)std::fclose(f);  // opened for reading: nothing to flush, nothing to lose
  return value;
}

bool KernelAtLeast(const std::string& release, int major, int minor) {
  int ma = 0, mi = 0;
  if (std::sscanf(release.c_str(), "%d.%d", &ma, &mi) != 2) return false;
  return ma > major || (ma == major && mi >= minor);
}

std::string SetupFailureReason(int error) {
  switch (error) {
    case ENOSYS:
      return "io_uring_setup is not implemented (kernel older than 5.1, or built without io_uring)";
    case EPERM: {
      int disabled = ReadSysctl("/proc/sys/kernel/io_uring_disabled");
      if (disabled == 2) return "io_uring is disabled for every process (kernel.io_uring_disabled=2)";
      if (disabled == 1) return "io_uring is disabled for processes outside kernel.io_uring_group (kernel.io_uring_disabled=1)";
      return "io_uring_setup was refused with EPERM (blocked by seccomp, a container profile or a security module)";
    }
    case ENOMEM:
      return "io_uring_setup failed with ENOMEM (locked-memory limit too low: raise RLIMIT_MEMLOCK)";
    default:
      return std::string("io_uring_setup failed: ") + std::strerror(error);
  }
}

bool SocketOptionAccepted(int option, int value) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  bool ok = setsockopt(fd, IPPROTO_UDP, option, &value, sizeof value) == 0;
  (void)close(fd);  // a probe socket: close() releases it even when it reports an error
  return ok;
}

}  // namespace

bool SocketOperationsPresent(const Capability& c) {
  return c.send && c.sendmsg && c.recvmsg && c.multishotReceive && c.providedBufferRings && c.registeredBuffers;
}

Capability ProbeCapability() {
  Capability c;
  utsname u;
  if (uname(&u) == 0) c.kernelRelease = u.release;

  Uring ring;
  int r = ring.Init(4, 8);
  if (r < 0) {
    c.setupErrno = -r;
    c.reason = SetupFailureReason(-r);
    return c;
  }
  c.extArg = (ring.features() & IORING_FEAT_EXT_ARG) != 0;

  // Which opcodes exist: IORING_REGISTER_PROBE (kernel 5.6).
  const unsigned opCount = 256;
  std::vector<char> probeBytes(sizeof(io_uring_probe) + opCount * sizeof(io_uring_probe_op), 0);
  auto* probe = reinterpret_cast<io_uring_probe*>(probeBytes.data());
  if (SysRegister(ring.fd(), IORING_REGISTER_PROBE, probe, opCount) == 0) {
    auto supported = [&](unsigned op) { return op <= probe->last_op && (probe->ops[op].flags & IO_URING_OP_SUPPORTED) != 0; };
    c.send = supported(IORING_OP_SEND);
    c.sendmsg = supported(IORING_OP_SENDMSG);
    c.recvmsg = supported(IORING_OP_RECVMSG);
    c.sendZeroCopy = supported(IORING_OP_SEND_ZC);
    c.sendmsgZeroCopy = supported(IORING_OP_SENDMSG_ZC);
  }
  c.multishotReceive = c.recvmsg && KernelAtLeast(c.kernelRelease, 6, 0);

  // Registered buffers: register one page and unregister it.
  void* page = mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (page != MAP_FAILED) {
    iovec iov{page, 4096};
    if (SysRegister(ring.fd(), IORING_REGISTER_BUFFERS, &iov, 1) == 0) {
      c.registeredBuffers = true;
      // A failure changes nothing: ring.Destroy() below unregisters everything anyway.
      (void)SysRegister(ring.fd(), IORING_UNREGISTER_BUFFERS, nullptr, 0);
    }
    // Provided buffer ring (kernel 5.19): the ring itself lives in that page.
    io_uring_buf_reg reg;
    std::memset(&reg, 0, sizeof reg);
    reg.ring_addr = reinterpret_cast<uint64_t>(page);
    reg.ring_entries = 8;
    reg.bgid = 0;
    if (SysRegister(ring.fd(), IORING_REGISTER_PBUF_RING, &reg, 1) == 0) {
      c.providedBufferRings = true;
      // As above: ring.Destroy() unregisters it anyway.
      (void)SysRegister(ring.fd(), IORING_UNREGISTER_PBUF_RING, &reg, 1);
    }
    // The kernel unpinned the page with the unregistrations (or the ring's close, which comes
    // later: the page is then freed with the ring); munmap of our own mapping cannot fail.
    (void)munmap(page, 4096);
  }
  ring.Destroy();

  c.udpSegmentation = SocketOptionAccepted(UDP_SEGMENT, 1200);
  c.udpReceiveCoalescing = SocketOptionAccepted(UDP_GRO, 1);

  if (!SocketOperationsPresent(c)) {
    c.reason =
        "this kernel's io_uring lacks an operation the UDP socket needs (send, sendmsg, recvmsg, "
        "multishot receive, provided buffer rings, registered buffers); kernel " +
        c.kernelRelease + ", 6.0 or later has them all";
    return c;
  }
  c.usable = true;
  return c;
}

}  // namespace flux
