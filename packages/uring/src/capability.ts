/**
 * The capability report: whether io_uring is usable here, which operations the kernel
 * has, and the exact reason when it is not usable (not Linux, build missing, opted out
 * by FLUX_URING=0, kernel too old, blocked by seccomp, kernel.io_uring_disabled, ...).
 */
import { type AddonSource, loadNative, type NativeCapability } from './native.js';

export interface Capability extends Omit<NativeCapability, 'setupErrno'> {
  /** 'native' when the addon loaded and probed the kernel, 'none' when it did not load. */
  source: 'native' | 'none';
  /** The addon file loaded (or tried) and what put it there: a prebuild package, a from-source build, FLUX_URING_ADDON. */
  addon?: { path: string; source: AddonSource };
}

const NO_OPERATIONS: NativeCapability['operations'] = {
  send: false,
  sendmsg: false,
  sendZeroCopy: false,
  sendmsgZeroCopy: false,
  recvmsg: false,
  multishotReceive: false,
  providedBufferRings: false,
  registeredBuffers: false,
  boundedWait: false,
  udpSegmentation: false,
  udpReceiveCoalescing: false,
};

let cached: Capability | undefined;

/** Probes once per process (a few system calls) and caches the answer. */
export function capability(): Capability {
  if (cached) return cached;
  const { binding, reason, path, source } = loadNative();
  const addon = path !== undefined && source !== undefined ? { addon: { path, source } } : {};
  if (!binding) {
    cached = { usable: false, reason, kernelRelease: '', operations: { ...NO_OPERATIONS }, source: 'none', ...addon };
  } else {
    const { setupErrno: _, ...report } = binding.capability();
    cached = { ...report, source: 'native', ...addon };
  }
  return cached;
}
