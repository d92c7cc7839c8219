// IPC with the test process, for host scripts: next(type) waits (bounded) for a message; leave() disconnects.
export function connectToTest(deadlineMs) {
  const inbox = [];
  let waiter = null;
  process.on('message', (message) => {
    inbox.push(message);
    waiter?.();
  });
  process.on('disconnect', () => process.exit(1)); // the test died
  return {
    send: (message) => process.send(message),
    next: (type) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no '${type}' from the test`)), Math.max(1, deadlineMs - Date.now()));
        const take = () => {
          const index = inbox.findIndex((m) => m.type === type);
          if (index < 0) return;
          clearTimeout(timer);
          waiter = null;
          resolve(inbox.splice(index, 1)[0]);
        };
        waiter = take;
        take();
      }),
    leave: () => {
      process.removeAllListeners('disconnect');
      process.disconnect();
    },
  };
}

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
