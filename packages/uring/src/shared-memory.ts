/**
 * @flux/ring's shared-memory provider (see @flux/ring's shared-memory.ts): ring files
 * mapped MAP_SHARED and futex waits on their words, through the addon
 * (native/src/shared_memory.cc). Registered when this package loads, so `Ring.create({
 * name })` and `Ring.open(name)` work in any process that imports @flux/uring (or
 * @flux/udp, @flux/reliable, @flux/sdk). FLUX_URING=0 turns io_uring off, not this.
 */
import { type ExternalFutex, FluxInternalError, type FutexResult, registerSharedMemoryProvider, type SharedMemoryProvider } from '@flux/ring';

import { loadAddon } from './native.js';
import { FUTEX_RESULT_NOT_EQUAL, FUTEX_RESULT_OK, FUTEX_RESULT_TIMED_OUT } from './seam-layout.js';

function resultName(code: number): FutexResult {
  if (code === FUTEX_RESULT_OK) return 'ok';
  if (code === FUTEX_RESULT_NOT_EQUAL) return 'not-equal';
  if (code === FUTEX_RESULT_TIMED_OUT) return 'timed-out';
  throw new FluxInternalError(`futex wait returned ${code}, not one of seam-layout.ts's FUTEX_RESULT_*`);
}

function provider(): SharedMemoryProvider {
  const { binding, reason } = loadAddon();
  const futex: ExternalFutex = {
    wait: (buffer, byteOffset, expected, timeoutMs) => resultName(binding!.futexWait(buffer, byteOffset, expected, timeoutMs)),
    waitAsync: (buffer, byteOffset, expected, timeoutMs) => binding!.futexWaitAsync(buffer, byteOffset, expected, timeoutMs).then(resultName),
    wake: (buffer, byteOffset, count) => binding!.futexWake(buffer, byteOffset, count),
  };
  return {
    name: '@flux/uring',
    unavailableReason: binding === undefined ? reason : '',
    create: (path, bytes, mode) => binding!.mapSharedFile(path, bytes, true, mode),
    open: (path) => binding!.mapSharedFile(path, 0, false, 0),
    futex,
  };
}

registerSharedMemoryProvider(provider());
