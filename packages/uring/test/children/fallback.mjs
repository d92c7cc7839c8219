// Run with FLUX_URING=0: the addon must not be used, and everything says why.
import { capability, numaInfo, setAffinity, UringUdpSocket } from '../../dist/index.js';

const cap = capability();
let createError = null;
try {
  UringUdpSocket.create();
} catch (error) {
  createError = { name: error.name, code: error.code, reason: error.reason };
}
console.log(JSON.stringify({ usable: cap.usable, reason: cap.reason, source: cap.source, createError, affinity: setAffinity([0]), numa: numaInfo().source }));
