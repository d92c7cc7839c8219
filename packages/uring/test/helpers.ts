import {
  DESCRIPTOR_BUFFER0_OFFSET,
  DESCRIPTOR_BUFFER1_OFFSET,
  DESCRIPTOR_FLAGS_OFFSET,
  DESCRIPTOR_LENGTH0_OFFSET,
  DESCRIPTOR_LENGTH1_OFFSET,
  DESCRIPTOR_START0_OFFSET,
  DESCRIPTOR_START1_OFFSET,
  DESCRIPTOR_TOKEN_OFFSET,
  DESCRIPTOR_UINT32S,
  RECORD_INT32S,
  RECORD_KIND_OFFSET,
  RECORD_RECV_ERROR_ERRNO_OFFSET,
  RECORD_RECV_FLAGS_OFFSET,
  RECORD_RECV_LENGTH_OFFSET,
  RECORD_RECV_START_OFFSET,
  RECORD_SEND_RESULT_OFFSET,
  RECORD_SEND_TOKEN_OFFSET,
  RecordKind,
  type UringUdpSocket,
} from '../src/index.js';

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
  const at = i * DESCRIPTOR_UINT32S;
  descriptors[at + DESCRIPTOR_TOKEN_OFFSET] = token;
  [descriptors[at + DESCRIPTOR_BUFFER0_OFFSET], descriptors[at + DESCRIPTOR_START0_OFFSET], descriptors[at + DESCRIPTOR_LENGTH0_OFFSET]] = part0;
  [descriptors[at + DESCRIPTOR_BUFFER1_OFFSET], descriptors[at + DESCRIPTOR_START1_OFFSET], descriptors[at + DESCRIPTOR_LENGTH1_OFFSET]] = part1;
  descriptors[at + DESCRIPTOR_FLAGS_OFFSET] = flags;
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
        if (records[r + RECORD_KIND_OFFSET] === RecordKind.SEND) {
          sends[s].push(records[r + RECORD_SEND_TOKEN_OFFSET]);
          sendResults[s].push(records[r + RECORD_SEND_RESULT_OFFSET]);
        } else if (records[r + RECORD_KIND_OFFSET] === RecordKind.RECV) {
          recvs[s].push({
            offset: records[r + RECORD_RECV_START_OFFSET],
            length: records[r + RECORD_RECV_LENGTH_OFFSET],
            truncated: records[r + RECORD_RECV_FLAGS_OFFSET] !== 0,
          });
        } else errors.push(records[r + RECORD_RECV_ERROR_ERRNO_OFFSET]);
      }
    });
  }
  return { sends, sendResults, recvs, errors };
}
