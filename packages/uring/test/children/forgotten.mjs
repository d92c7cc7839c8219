// Run with --expose-gc. Sockets JavaScript forgets to close, each with its multishot receive
// armed and zero-copy sends in flight, are collected: their finalizers must not wait for the
// kernel (they hand the teardown to the event loop), and the process must then exit by itself.
import { DESCRIPTOR_FLAGS_OFFSET, DESCRIPTOR_LENGTH0_OFFSET, DESCRIPTOR_TOKEN_OFFSET, DESCRIPTOR_UINT32S, SendFlag, UringUdpSocket } from '../../dist/index.js';

const SOCKETS = 16;
const rx = UringUdpSocket.create();
const { port } = rx.bind('127.0.0.1', 0);
rx.startReceive({ parts: 64 });
(() => {
  for (let s = 0; s < SOCKETS; s++) {
    const socket = UringUdpSocket.create();
    socket.bind('127.0.0.1', 0);
    socket.connect('127.0.0.1', port);
    socket.startReceive({ parts: 8 });
    socket.onReady(() => {});
    socket.registerBuffers([new Uint8Array(4096)]);
    const d = new Uint32Array(4 * DESCRIPTOR_UINT32S);
    for (let i = 0; i < 4; i++) {
      d[i * DESCRIPTOR_UINT32S + DESCRIPTOR_TOKEN_OFFSET] = i;
      d[i * DESCRIPTOR_UINT32S + DESCRIPTOR_LENGTH0_OFFSET] = 1024;
      d[i * DESCRIPTOR_UINT32S + DESCRIPTOR_FLAGS_OFFSET] = SendFlag.ZERO_COPY;
    }
    socket.send(d, 4);
  }
})();
const started = performance.now();
let longestTurnMs = 0;
let last = performance.now();
const watch = setInterval(() => {
  const now = performance.now();
  longestTurnMs = Math.max(longestTurnMs, now - last);
  last = now;
}, 1);
for (let i = 0; i < 3; i++) globalThis.gc();
await new Promise((resolve) => setTimeout(resolve, 300)); // finalizers run, then their teardowns
clearInterval(watch);
rx.close();
console.log(JSON.stringify({ collectedMs: Math.round(performance.now() - started), longestTurnMs: Math.round(longestTurnMs) }));
