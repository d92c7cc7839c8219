// Registers @flux/ring's shared-memory provider (rings between processes): a side effect of importing this package.
import './shared-memory.js';

export { asyncFutexMechanism } from './shared-memory.js';

export { type Capability, capability } from './capability.js';
export { UringUnavailableError } from './errors.js';
export {
  adviseHugePages,
  allocateHugeBuffer,
  bindToNode,
  getAffinity,
  hugePageResidency,
  numaInfo,
  setAffinity,
} from './hints.js';
export {
  type AddonSource,
  DESCRIPTOR_UINT32S,
  type HintOutcome,
  type HugePageResidency,
  type NativeAddress,
  type NativeBufferSizes,
  type NativeSocketStats,
  type NumaReport,
  optedOut,
  RECORD_INT32S,
  RecordKind,
  SendFlag,
} from './native.js';
/** Word offsets of send descriptors and completion records (the seam with the addon). */
export {
  DESCRIPTOR_BUFFER0_OFFSET,
  DESCRIPTOR_BUFFER1_OFFSET,
  DESCRIPTOR_FLAGS_OFFSET,
  DESCRIPTOR_LENGTH0_OFFSET,
  DESCRIPTOR_LENGTH1_OFFSET,
  DESCRIPTOR_START0_OFFSET,
  DESCRIPTOR_START1_OFFSET,
  DESCRIPTOR_TOKEN_OFFSET,
  RECORD_KIND_OFFSET,
  RECORD_RECV_ERROR_ERRNO_OFFSET,
  RECORD_RECV_FLAGS_OFFSET,
  RECORD_RECV_LENGTH_OFFSET,
  RECORD_RECV_START_OFFSET,
  RECORD_SEND_FLAGS_OFFSET,
  RECORD_SEND_RESULT_OFFSET,
  RECORD_SEND_TOKEN_OFFSET,
  RECEIVE_NAME_FAMILY_IPV4,
  RECEIVE_NAME_FAMILY_IPV6,
  RECEIVE_PART_NAME_OFFSET,
} from './seam-layout.js';
export { SenderAddressReader } from './sender-address.js';
export { type ReceiveArea, type ReceiveOptions, type UringSocketOptions, UringUdpSocket } from './udp-socket.js';
