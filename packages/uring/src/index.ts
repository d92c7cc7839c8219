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
  DESCRIPTOR_UINT32S,
  type HintOutcome,
  type HugePageResidency,
  type NativeAddress,
  type NativeSocketStats,
  type NumaReport,
  optedOut,
  RECORD_INT32S,
  RecordKind,
  SendFlag,
} from './native.js';
export { type ReceiveArea, type ReceiveOptions, type UringSocketOptions, UringUdpSocket } from './udp-socket.js';
