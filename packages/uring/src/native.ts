/**
 * The whole native surface, typed once, and its loader. Everything else in this package
 * goes through `loadNative()`; when it returns `undefined`, `reason` says why and callers
 * fall back to node:dgram.
 *
 * Opting out: FLUX_URING=0 (or "off", "false") makes the loader return undefined with
 * the reason "opted out by FLUX_URING=0", on any machine.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

import {
  DESCRIPTOR_UINT32S,
  RECORD_INT32S,
  RECORD_KIND_RECV,
  RECORD_KIND_RECV_ERROR,
  RECORD_KIND_SEND,
  SEND_FLAG_COALESCE,
  SEND_FLAG_ZERO_COPY,
} from './seam-layout.js';

/** Records written by `poll()`: 4 x int32 each (word offsets in seam-layout.ts). */
export { RECORD_INT32S };
export const RecordKind = { SEND: RECORD_KIND_SEND, RECV: RECORD_KIND_RECV, RECV_ERROR: RECORD_KIND_RECV_ERROR } as const;
/** Send descriptors: 8 x uint32 each, [token, buffer0, offset0, length0, buffer1, offset1, length1, flags] (seam-layout.ts). */
export { DESCRIPTOR_UINT32S };
/** ZERO_COPY: send from the registered pages (large datagrams). COALESCE: may go out in one UDP GSO
 * sendmsg with neighbouring COALESCE descriptors of one part and one length (the last may be
 * shorter); each datagram still gets its own SEND record. */
export const SendFlag = { ZERO_COPY: SEND_FLAG_ZERO_COPY, COALESCE: SEND_FLAG_COALESCE } as const;

export interface NativeCapability {
  usable: boolean;
  reason: string;
  setupErrno: number;
  kernelRelease: string;
  operations: {
    send: boolean;
    sendmsg: boolean;
    sendZeroCopy: boolean;
    sendmsgZeroCopy: boolean;
    recvmsg: boolean;
    multishotReceive: boolean;
    providedBufferRings: boolean;
    registeredBuffers: boolean;
    boundedWait: boolean;
    udpSegmentation: boolean;
    udpReceiveCoalescing: boolean;
  };
}

export interface NativeSocketStats {
  sendsInFlight: number;
  maxInFlight: number;
  receivePartsLent: number;
  receiveNoBuffers: number;
  receiveRearms: number;
  completionQueueOverflows: number;
  /** Sends that carried more than one datagram (UDP GSO, SendFlag.COALESCE), and those datagrams. */
  coalescedSends: number;
  coalescedDatagrams: number;
  /** Receives the kernel coalesced (UDP GRO) that poll() split into datagrams. */
  receiveCoalesced: number;
  closed: boolean;
}

/** SO_SNDBUF / SO_RCVBUF as the kernel reports them (Linux: twice what it granted). */
export interface NativeBufferSizes {
  sendBufferBytes: number;
  receiveBufferBytes: number;
}

export interface NativeAddress {
  address: string;
  port: number;
  family: 'IPv4' | 'IPv6';
}

export interface NativeUdpSocket {
  bind(address: string, port: number): NativeAddress;
  connect(address: string, port: number): void;
  localAddress(): NativeAddress;
  bufferSizes(): NativeBufferSizes;
  registerBuffers(buffers: ArrayBufferView[]): number;
  send(descriptors: Uint32Array, count: number): number;
  sendTo(bytes: ArrayBufferView, lengthBytes: number, address: string, port: number): number;
  poll(records: Int32Array, waitNs?: number): number;
  startReceive(buffer: ArrayBufferView, partBytes: number, parts: number): number;
  setSegmentBytes(segmentBytes: number): void;
  setReceiveCoalescing(enabled: boolean): void;
  onReady(callback: (() => void) | null): void;
  setRef(ref: boolean): void;
  stats(): NativeSocketStats;
  close(): { clean: boolean };
}

export interface HintOutcome {
  applied: boolean;
  reason: string;
}

export interface NumaReport {
  nodes: number[];
  source: string;
  cpu?: number;
  node?: number;
  transparentHugePages: string;
  hugePagesReserved: number;
}

export interface NativeFutexWaiter {
  /** Submits a FUTEX_WAIT on the int32 at `byteOffset` while it holds `expected`; 0, or -errno (-EBUSY: all 64 entries waiting). */
  wait(buffer: ArrayBuffer, byteOffset: number, expected: number, token: number): number;
  /** Cancels `token`'s wait (its result is then -ECANCELED); 0 or -errno. */
  cancel(token: number): number;
  /** Completed waits as (token, result) pairs in `records`; returns how many. result: 0 woken, -EAGAIN changed, -ECANCELED cancelled. */
  poll(records: Int32Array): number;
  close(): void;
}

export interface NativeBinding {
  capability(): NativeCapability;
  UringUdpSocket: new (
    family: 4 | 6,
    entries: number,
    maxInFlight: number,
    sendBufferBytes?: number,
    receiveBufferBytes?: number,
    deferTaskRun?: boolean,
  ) => NativeUdpSocket;
  setAffinity(cpus: number[]): HintOutcome & { cpus: number[] };
  getAffinity(): number[];
  numaInfo(): NumaReport;
  bindToNode(buffer: ArrayBufferView, node: number): HintOutcome & { bytes: number };
  adviseHugePages(buffer: ArrayBufferView): HintOutcome & { bytes: number; mode: string };
  allocateHugeBuffer(bytes: number): { buffer: ArrayBuffer; hugeTlb: boolean; transparent: boolean; reason: string };
  hugePageResidency(buffer: ArrayBufferView): HugePageResidency;
  /** Creates (`create`: O_EXCL, `bytes`, `mode`) or opens a file and maps it MAP_SHARED (shared_memory.cc). */
  mapSharedFile(path: string, bytes: number, create: boolean, mode: number): ArrayBuffer;
  /** Maps every page of a mapped buffer into this process's page tables, on a pool thread (shared_memory.cc); contents unchanged. */
  prefaultAsync(buffer: ArrayBuffer, write: boolean): Promise<void>;
  /** FUTEX_WAIT (not private) on the int32 at `byteOffset`: FUTEX_RESULT_* of seam-layout.ts. */
  futexWait(buffer: ArrayBuffer, byteOffset: number, expected: number, timeoutMs: number): number;
  /** The same on a libuv pool thread. */
  futexWaitAsync(buffer: ArrayBuffer, byteOffset: number, expected: number, timeoutMs: number): Promise<number>;
  /** Futex waits completing on this thread's loop (io_uring FUTEX_WAIT, native/src/futex_waiter.cc). */
  FutexWaiter: new (
    onReady: () => void,
  ) => NativeFutexWaiter;
  /** Whether this kernel's io_uring has IORING_OP_FUTEX_WAIT (Linux 6.7). */
  futexWaitSupported(): boolean;
  /** FUTEX_WAKE: wakes up to `count`; returns how many were woken. */
  futexWake(buffer: ArrayBuffer, byteOffset: number, count: number): number;
  /** The constants of native/src/seam_layout.h, by name (test/seam-layout.test.ts holds seam-layout.ts to them). */
  seamLayout(): Readonly<Record<string, number>>;
}

export interface HugePageResidency {
  /** Bytes of the mappings under the buffer backed by transparent huge pages now (0 when unknown). */
  hugePageBytes: number;
  /** Empty when measured; otherwise why not (no addon, no /proc/self/smaps). */
  reason: string;
}

/** What put the addon file where the loader found it (addonCandidates' order). */
export type AddonSource = 'FLUX_URING_ADDON' | 'from-source build' | 'prebuild';

export interface LoadResult {
  binding: NativeBinding | undefined;
  /** Why there is no binding (empty when there is one). */
  reason: string;
  /** The file loaded (or tried), and what put it there. */
  path?: string;
  source?: AddonSource;
}

let loaded: LoadResult | undefined;

export function optedOut(): boolean {
  const value = process.env.FLUX_URING?.toLowerCase();
  return value === '0' || value === 'off' || value === 'false';
}

let loadedAddon: LoadResult | undefined;

/**
 * The prebuilt addons, each its own package with os, cpu and libc fields, which @flux/uring
 * lists as optional dependencies: npm and pnpm install the one that matches (napi-rs's
 * layout; scripts/prebuild.mjs builds them).
 */
export const PREBUILD_TARGETS: readonly string[] = ['linux-x64-gnu', 'linux-arm64-gnu', 'linux-x64-musl'];

/** 'musl' when this process runs on musl's dynamic loader (Alpine), else 'gnu': read from what the process has mapped. */
export function processLibc(): 'gnu' | 'musl' {
  try {
    return /\/ld-musl-[^/\s]+\.so/.test(readFileSync('/proc/self/maps', 'latin1')) ? 'musl' : 'gnu';
  } catch {
    return 'gnu';
  }
}

/** This process's prebuild target, e.g. linux-x64-gnu. */
export function prebuildTarget(): string {
  return `${process.platform}-${process.arch}-${processLibc()}`;
}

interface Candidate {
  path: string;
  /** What put it there, for the reasons. */
  source: AddonSource;
}

/**
 * Where the addon is looked for, in order: FLUX_URING_ADDON (an explicit path, for apps that
 * bundle and ship the file themselves), a from-source build (build/Release/flux_uring.node:
 * `pnpm build` in the repo, `npx @flux/sdk build-native` in an installed copy), then the
 * prebuild package for this platform, CPU and C library (@flux/uring-linux-x64-gnu, ...).
 */
export function addonCandidates(): Candidate[] {
  const explicit = process.env.FLUX_URING_ADDON;
  if (explicit) return [{ path: explicit, source: 'FLUX_URING_ADDON' }];
  const require = createRequire(import.meta.url);
  const candidates: Candidate[] = [{ path: fileURLToPath(new URL('../build/Release/flux_uring.node', import.meta.url)), source: 'from-source build' }];
  try {
    candidates.push({ path: require.resolve(`@flux/uring-${prebuildTarget()}/flux_uring.node`), source: 'prebuild' });
  } catch {
    // not installed: the reason says so
  }
  return candidates;
}

/**
 * Loads the addon once, whatever FLUX_URING says (shared memory for rings between
 * processes needs the addon, not io_uring); never throws. On Linux a failure is a broken
 * or unsupported install, so it is said once per process with process.emitWarning
 * (code FLUX_URING_ADDON) beside the reason every report carries; FLUX_URING=0 silences it.
 */
export function loadAddon(): LoadResult {
  if (loadedAddon) return loadedAddon;
  if (process.platform !== 'linux') return (loadedAddon = { binding: undefined, reason: `not Linux (${process.platform})` });
  const require = createRequire(import.meta.url);
  const found = addonCandidates().find((candidate) => existsSync(candidate.path));
  if (found === undefined) {
    loadedAddon = { binding: undefined, reason: noAddonReason() };
  } else {
    try {
      loadedAddon = { binding: require(found.path) as NativeBinding, reason: '', path: found.path, source: found.source };
    } catch (error) {
      loadedAddon = { binding: undefined, reason: explainLoadFailure(found.path, error), path: found.path, source: found.source };
    }
  }
  if (loadedAddon.binding === undefined && !optedOut()) {
    // Once per process: the result is cached above.
    process.emitWarning(`@flux/uring: ${loadedAddon.reason}; node:dgram is used and rings stay within this process (FLUX_URING=0 silences this)`, {
      code: 'FLUX_URING_ADDON',
    });
  }
  return loadedAddon;
}

/** Why no addon file was found, and what to do. */
export function noAddonReason(): string {
  const explicit = process.env.FLUX_URING_ADDON;
  if (explicit) return `build missing: FLUX_URING_ADDON names ${explicit}, which does not exist`;
  const target = prebuildTarget();
  const shipped = PREBUILD_TARGETS.includes(target)
    ? `@flux/uring-${target}, its prebuild, is not installed (optional dependencies left out: npm --omit=optional, or a bundle shipped without node_modules; or set FLUX_URING_ADDON to the file)`
    : `no prebuild for ${target} (prebuilds: ${PREBUILD_TARGETS.join(', ')})`;
  return `build missing: ${shipped}; or build it from source: npx @flux/sdk build-native`;
}

/** ELF e_machine values (elf.h) and the process.arch each is. */
const ELF_MACHINES: Record<number, string> = { 3: 'ia32', 40: 'arm', 62: 'x64', 183: 'arm64', 243: 'riscv64' };

/**
 * Why the addon at `path` did not load, told apart: missing, built for another CPU (glibc
 * reports that as "cannot open shared object file", as if it were missing), needing a newer
 * C library, a missing symbol, or not a shared object at all.
 */
export function explainLoadFailure(path: string, error: unknown): string {
  const message = (error instanceof Error ? error.message : String(error)).split('\n')[0];
  if (!existsSync(path)) return `build missing: ${path} does not exist (build it: npx @flux/sdk build-native; in the repo: pnpm build)`;
  let header: Buffer;
  try {
    header = readFileSync(path).subarray(0, 20);
  } catch (readError) {
    return `addon unreadable: ${(readError as Error).message}`;
  }
  if (header.length < 20 || header.readUInt32BE(0) !== 0x7f454c46) return `addon is not an ELF shared object: ${path}`;
  const machine = ELF_MACHINES[header.readUInt16LE(18)] ?? `ELF machine ${header.readUInt16LE(18)}`;
  const bits = header[4] === 2 ? 64 : 32;
  if (machine !== process.arch || (bits === 64) !== ['x64', 'arm64', 'riscv64', 'ppc64', 's390x'].includes(process.arch)) {
    return `addon built for ${machine} (${bits}-bit), this process is ${process.arch}: ${path}`;
  }
  const version = /version `([^']+)' not found/.exec(message);
  if (version) return `addon needs ${version[1]}, which this system's C library does not have (${message})`;
  if (/undefined symbol/.test(message)) return `addon has a missing symbol: ${message}`;
  return `addon did not load: ${message}`;
}

/** The addon for io_uring: loadAddon(), unless FLUX_URING opts out; never throws. */
export function loadNative(): LoadResult {
  if (loaded) return loaded;
  if (optedOut()) return (loaded = { binding: undefined, reason: `opted out by FLUX_URING=${process.env.FLUX_URING}` });
  return (loaded = loadAddon());
}
