// What this kernel's io_uring can do, found by asking it (not by version numbers, except
// for multishot receive, which has no probe bit: kernel 6.0 or later).
#pragma once

#include <string>

namespace flux {

struct Capability {
  bool usable = false;
  // Why not usable: empty when usable.
  std::string reason;
  // errno of io_uring_setup when it failed (0 otherwise).
  int setupErrno = 0;
  std::string kernelRelease;
  bool send = false;                  // IORING_OP_SEND
  bool sendmsg = false;               // IORING_OP_SENDMSG
  bool sendZeroCopy = false;          // IORING_OP_SEND_ZC
  bool sendmsgZeroCopy = false;       // IORING_OP_SENDMSG_ZC
  bool recvmsg = false;               // IORING_OP_RECVMSG
  bool multishotReceive = false;      // IORING_RECV_MULTISHOT on RECVMSG (kernel >= 6.0)
  bool providedBufferRings = false;   // IORING_REGISTER_PBUF_RING
  bool registeredBuffers = false;     // IORING_REGISTER_BUFFERS
  bool extArg = false;                // IORING_FEAT_EXT_ARG (bounded waits)
  bool udpSegmentation = false;       // UDP_SEGMENT (GSO) accepted by a UDP socket
  bool udpReceiveCoalescing = false;  // UDP_GRO accepted by a UDP socket
};

// Probes the running kernel. Cheap (a few system calls); callers cache it.
Capability ProbeCapability();

// True when every operation the UDP socket needs is present.
bool SocketOperationsPresent(const Capability& c);

}  // namespace flux
