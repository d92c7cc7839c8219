export { BACK_PRESSURED, NOT_CONNECTED } from './codes.js';
export { type Codec, jsonCodec, utf8Codec } from './codec.js';
export { Consumer, type MessageHandler } from './consumer.js';
export {
  ConsumerRemovedError,
  FluxError,
  type FluxErrorCode,
  type FluxErrorLike,
  FluxHandlerError,
  FluxInternalError,
  FluxRangeError,
  FluxAbortError,
  FluxTimeoutError,
  FluxTypeError,
  isFluxError,
} from './errors.js';
export { ABORTED_LENGTH, LAYOUT_VERSION, MAX_CAPACITY, MAX_CONSUMERS, type ProducerModeName } from './layout.js';
export { ClaimUnblocker, type UnblockedClaim } from './claim-unblocker.js';
export { type CounterSource, counterSources, registerCounterSource, setStatAutoStart } from './counter-sources.js';
export { DIAGNOSTICS_CHANNELS } from './diagnostics.js';
export type { WaitOptions } from './validate.js';
export { processAlive, type ProcessIdentity, selfIdentity } from './process-identity.js';
export { type ConsumerStall, StallDetector } from './liveness.js';
export { MultiProducer } from './multi-producer.js';
export { Producer } from './producer.js';
export { type AddConsumerOptions, RING_DIRECTORY, Ring, type RingHandle, type RingHolder, type RingOptions, ringFiles, ringPath } from './ring.js';
export {
  type ExternalFutex,
  type FutexResult,
  registerSharedMemoryProvider,
  type SharedMemoryProvider,
  SharedMemoryUnavailableError,
} from './shared-memory.js';
export {
  checkedAddSequence as addSequence,
  checkedSequenceDiff as sequenceDiff,
  INITIAL_SEQUENCE,
  MAX_SEQUENCE_ARGUMENT,
  SEQUENCE_MASK,
} from './sequence.js';
export { SingleProducer } from './single-producer.js';
export { AsyncWaitStrategy } from './wait/async.js';
export { BlockingWaitStrategy } from './wait/blocking.js';
export { BusySpinWaitStrategy } from './wait/busy-spin.js';
export { PhasedWaitStrategy, type PhasedWaitOptions } from './wait/phased.js';
export { SleepingWaitStrategy, type SleepingWaitOptions } from './wait/sleeping.js';
export type { AsyncWaiter, AsyncWaitOptions, Probe, WaitStrategy } from './wait/wait-strategy.js';
export { relax, RELAX_ITERATIONS } from './wait/relax.js';
export { YieldingWaitStrategy } from './wait/yielding.js';
export { type ConsumerView, isRing, type LivenessView, type ProducerView, type RingMemory } from './ring-view.js';
