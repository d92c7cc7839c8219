import { DESCRIPTOR_UINT32S, RECORD_INT32S, RecordKind, type UringUdpSocket } from '../src/index.js';

export interface Received {
  offset: number;
  length: number;
  truncated: boolean;
}

/** Writes descriptor `i`: one part (buffer, offset, length), or two. */
export function describe(
  descriptors: Uint32Array,
  i: number,
  token: number,
  part0: [number, number, number],
  part1: [number, number, number] = [0, 0, 0],
  flags = 0,
): void {
  descriptors.set([token, ...part0, ...part1, flags], i * DESCRIPTOR_UINT32S);
}

/**
 * Polls `sockets` until `done()` or `maxPolls` polls (each waiting at most 10 ms in the
 * kernel): a bounded loop. Returns SEND and RECV records seen, per socket.
 */
export function pollUntil(sockets: UringUdpSocket[], done: (sends: number[][], recvs: Received[][]) => boolean, maxPolls = 500) {
  const records = new Int32Array(RECORD_INT32S * 1024);
  const sends: number[][] = sockets.map(() => []);
  const sendResults: number[][] = sockets.map(() => []);
  const recvs: Received[][] = sockets.map(() => []);
  const errors: number[] = [];
  for (let k = 0; k < maxPolls && !done(sends, recvs); k++) {
    sockets.forEach((socket, s) => {
      const n = socket.poll(records, 10_000_000);
      for (let i = 0; i < n; i++) {
        const r = i * RECORD_INT32S;
        if (records[r] === RecordKind.SEND) {
          sends[s].push(records[r + 1]);
          sendResults[s].push(records[r + 2]);
        } else if (records[r] === RecordKind.RECV) {
          recvs[s].push({ offset: records[r + 1], length: records[r + 2], truncated: records[r + 3] !== 0 });
        } else errors.push(records[r + 1]);
      }
    });
  }
  return { sends, sendResults, recvs, errors };
}
