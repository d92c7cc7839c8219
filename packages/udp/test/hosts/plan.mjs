// The messages the two-hosts test sends, shared by its publisher and subscriber: which
// index is small or large, and every byte of each (so the subscriber checks them all).
// The IPC plumbing both scripts use (messages from the test, each awaited with a deadline,
// and a watchdog so no host process outlives the test) is test-support/child-host.mjs's.

/** `config`: { smallCount, smallBytes, largeCount, largeBytes, chunk, deadlineMs } */
export function totalOf(config) {
  return config.smallCount + config.largeCount;
}

/** Large messages are spread evenly: one every `total / largeCount` messages. */
export function lengthOf(config, index) {
  const every = Math.floor(totalOf(config) / config.largeCount);
  const isLarge = config.largeCount > 0 && index % every === every - 1 && Math.floor(index / every) < config.largeCount;
  return isLarge ? config.largeBytes : config.smallBytes;
}

const byteOf = (index, position) => (index * 31 + position * 7 + (position >> 8)) & 0xff;

/** Writes message `index`: its index (u32 little-endian) at offset 0, then a pattern. */
export function fill(bytes, index, lengthBytes) {
  bytes[0] = index;
  bytes[1] = index >>> 8;
  bytes[2] = index >>> 16;
  bytes[3] = index >>> 24;
  for (let position = 4; position < lengthBytes; position++) bytes[position] = byteOf(index, position);
}

/** The first wrong byte's position in message `index`, or -1 if it is intact. */
export function firstWrongByte(bytes, offset, index, lengthBytes) {
  const stamped = (bytes[offset] | (bytes[offset + 1] << 8) | (bytes[offset + 2] << 16) | (bytes[offset + 3] << 24)) >>> 0;
  if (stamped !== index) return 0;
  for (let position = 4; position < lengthBytes; position++) {
    if (bytes[offset + position] !== byteOf(index, position)) return position;
  }
  return -1;
}

export { connectToTest } from '../../../../test-support/child-host.mjs';
