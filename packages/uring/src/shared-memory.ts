/**
 * @flux/ring's shared-memory provider (see @flux/ring's shared-memory.ts): ring files
 * mapped MAP_SHARED and futex waits on their words, through the addon
 * (native/src/shared_memory.cc). Registered when this package loads, so `Ring.create({
 * name })` and `Ring.open(name)` work in any process that imports @flux/uring (or
 * @flux/udp, @flux/reliable, @flux/sdk). FLUX_URING=0 turns io_uring off, not this.
 *
 * Async waits (the event loop's):
 *   io_uring has IORING_OP_FUTEX_WAIT (Linux 6.7) and FLUX_URING allows io_uring:
 *       one FutexWaiter per thread (futex_waiter.cc): the wait is an io_uring operation whose
 *       completion signals an eventfd libuv watches: a wake-up is one hop to this loop
 *   otherwise: futexWaitAsync, the wait on a libuv pool thread (a second hop, and a pool
 *       thread held per pending wait)
 */
import { constants } from 'node:os';
import { type ExternalFutex, FluxInternalError, type FutexResult, registerSharedMemoryProvider, type SharedMemoryProvider } from '@flux/ring';

import { loadAddon, type NativeBinding, type NativeFutexWaiter, optedOut } from './native.js';
import { FUTEX_RESULT_NOT_EQUAL, FUTEX_RESULT_OK, FUTEX_RESULT_TIMED_OUT } from './seam-layout.js';

function resultName(code: number): FutexResult {
  if (code === FUTEX_RESULT_OK) return 'ok';
  if (code === FUTEX_RESULT_NOT_EQUAL) return 'not-equal';
  if (code === FUTEX_RESULT_TIMED_OUT) return 'timed-out';
  throw new FluxInternalError(`futex wait returned ${code}, not one of seam-layout.ts's FUTEX_RESULT_*`);
}

const { EAGAIN, ECANCELED, EBUSY } = constants.errno;
/** Completions read per poll() call: (token, result) pairs. */
const RECORDS = 64;

/** Futex waits completing on this thread's event loop (one per thread: this module is per thread). */
class LoopFutex {
  private readonly waiter: NativeFutexWaiter;
  private readonly records = new Int32Array(RECORDS * 2);
  private readonly pending = new Map<number, (result: FutexResult) => void>();
  private nextToken = 0;

  constructor(binding: NativeBinding) {
    this.waiter = new binding.FutexWaiter(() => this.reap());
  }

  /** The wait's promise, or undefined when every entry is waiting (the caller falls back). */
  waitAsync(buffer: ArrayBuffer, byteOffset: number, expected: number, timeoutMs: number): Promise<FutexResult> | undefined {
    const token = (this.nextToken = (this.nextToken + 1) >>> 0);
    const submitted = this.waiter.wait(buffer, byteOffset, expected, token);
    if (submitted === -EBUSY) return undefined;
    if (submitted < 0) throw new FluxInternalError(`io_uring FUTEX_WAIT could not be submitted (errno ${-submitted})`);
    return new Promise((resolve) => {
      // The timeout cancels the kernel's wait; unref'd: the wait's caller decides what keeps the process alive.
      const timer = Number.isFinite(timeoutMs) ? setTimeout(() => this.waiter.cancel(token), timeoutMs) : undefined;
      timer?.unref();
      this.pending.set(token, (result) => {
        if (timer !== undefined) clearTimeout(timer);
        resolve(result);
      });
    });
  }

  private reap(): void {
    for (;;) {
      const count = this.waiter.poll(this.records);
      for (let i = 0; i < count; i++) {
        const token = this.records[2 * i] >>> 0;
        const result = this.records[2 * i + 1];
        const resolve = this.pending.get(token);
        this.pending.delete(token);
        // Woken (0), or a signal or any other error: 'ok', and the waiter re-probes (bounded by its deadline).
        resolve?.(result === -EAGAIN ? 'not-equal' : result === -ECANCELED ? 'timed-out' : 'ok');
      }
      if (count < RECORDS) return;
    }
  }
}

let loopFutex: LoopFutex | null | undefined;

/** This thread's LoopFutex, or null where io_uring has no FUTEX_WAIT (or FLUX_URING turned io_uring off). */
function loopFutexOf(binding: NativeBinding): LoopFutex | null {
  if (loopFutex === undefined) {
    try {
      loopFutex = !optedOut() && binding.futexWaitSupported() ? new LoopFutex(binding) : null;
    } catch {
      loopFutex = null; // io_uring_setup refused (seccomp, limits): the pool thread still works
    }
  }
  return loopFutex;
}

/** How this process waits asynchronously on a ring file: 'io_uring' (one hop) or 'pool thread'. */
export function asyncFutexMechanism(): 'io_uring' | 'pool thread' | 'none' {
  const { binding } = loadAddon();
  if (binding === undefined) return 'none';
  return loopFutexOf(binding) !== null ? 'io_uring' : 'pool thread';
}

function provider(): SharedMemoryProvider {
  const { binding, reason } = loadAddon();
  const futex: ExternalFutex = {
    wait: (buffer, byteOffset, expected, timeoutMs) => resultName(binding!.futexWait(buffer, byteOffset, expected, timeoutMs)),
    waitAsync: (buffer, byteOffset, expected, timeoutMs) =>
      loopFutexOf(binding!)?.waitAsync(buffer, byteOffset, expected, timeoutMs) ??
      binding!.futexWaitAsync(buffer, byteOffset, expected, timeoutMs).then(resultName),
    wake: (buffer, byteOffset, count) => binding!.futexWake(buffer, byteOffset, count),
  };
  return {
    name: '@flux/uring',
    unavailableReason: binding === undefined ? reason : '',
    create: (path, bytes, mode) => binding!.mapSharedFile(path, bytes, true, mode),
    open: (path) => binding!.mapSharedFile(path, 0, false, 0),
    prefault: (buffer, write) => binding!.prefaultAsync(buffer, write),
    futex,
  };
}

registerSharedMemoryProvider(provider());
