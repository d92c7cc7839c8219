// What the kernel-loss test's publisher and subscriber share: the message pattern. Their IPC
// with the test is test-support/child-host.mjs's connectToTest (bounded waits, a watchdog).
export { connectToTest } from '../../../../test-support/child-host.mjs';

/** Message `index`: its index (u32 LE) then bytes derived from it. */
export function fill(bytes, index) {
  new DataView(bytes.buffer, bytes.byteOffset, bytes.length).setUint32(0, index, true);
  for (let i = 4; i < bytes.length; i++) bytes[i] = (index + i) & 0xff;
}

export function matches(bytes, offset, length, index, expectedLength) {
  if (length !== expectedLength) return false;
  if (new DataView(bytes.buffer, bytes.byteOffset + offset, length).getUint32(0, true) !== index) return false;
  for (let i = 4; i < length; i++) if (bytes[offset + i] !== ((index + i) & 0xff)) return false;
  return true;
}
