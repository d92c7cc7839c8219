// Checks what share of packets a namespace pair's loss rule really drops (see test-support/netns.mjs): a
// receiver process in namespace A, a sender process in namespace B sends numbered 64-byte
// UDP datagrams, paced (a few per millisecond) so the receiver keeps up and the receive
// buffer never overflows; the share that never arrives is what the rule dropped.
//
//   netns A [receiver: counts distinct indices] <--- veth (loss rule) --- [sender] netns B
//
// Run by measureDropShare(); this file is also the child script (with --role).
import dgram from 'node:dgram';
import { fileURLToPath } from 'node:url';
import { nextParentMessage, runChild, startChild } from './two-process.mjs';
import { readU32, writeU32 } from './indexed-messages.mjs';

const scriptPath = fileURLToPath(import.meta.url);
const DATAGRAM_BYTES = 64;
const RECEIVE_BUFFER_BYTES = 4 * 1024 * 1024;
const QUIET_MS = 300; // after the sender is done: nothing for this long means the rest were dropped
const TICK_MS = 1;

async function receiver({ address, deadline }) {
  const seen = new Uint8Array(0x10000);
  let received = 0;
  let duplicates = 0;
  let lastArrivalMs = Date.now();
  const socket = dgram.createSocket({ type: 'udp4', recvBufferSize: RECEIVE_BUFFER_BYTES });
  socket.on('message', (message) => {
    lastArrivalMs = Date.now();
    const index = readU32(message, 0);
    if (message.length !== DATAGRAM_BYTES || index >= seen.length * 8) return;
    const bit = 1 << (index & 7);
    if (seen[index >> 3] & bit) duplicates++;
    else {
      seen[index >> 3] |= bit;
      received++;
    }
  });
  await new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, address, resolve);
  });
  process.send({ type: 'ready', port: socket.address().port });
  const { sent } = await nextParentMessage('sent', deadline);
  while (received < sent && Date.now() - lastArrivalMs < QUIET_MS) {
    if (Date.now() > deadline) throw new Error('loss probe receiver: deadline');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  await new Promise((resolve) => socket.close(resolve));
  return { received, duplicates };
}

async function sender({ address, port, datagrams, perTick, deadline }) {
  const socket = dgram.createSocket({ type: 'udp4' });
  await new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.connect(port, address, resolve);
  });
  let sendErrors = 0;
  let pending = 0;
  const onSent = (error) => {
    pending--;
    if (error) sendErrors++;
  };
  for (let sent = 0; sent < datagrams; ) {
    if (Date.now() > deadline) throw new Error('loss probe sender: deadline');
    for (const end = Math.min(datagrams, sent + perTick); sent < end; sent++) {
      const datagram = Buffer.alloc(DATAGRAM_BYTES); // node:dgram holds it until sent
      writeU32(datagram, 0, sent);
      pending++;
      socket.send(datagram, onSent);
    }
    await new Promise((resolve) => setTimeout(resolve, TICK_MS));
  }
  while (pending > 0) {
    if (Date.now() > deadline) throw new Error('loss probe sender: deadline waiting for sends');
    await new Promise((resolve) => setTimeout(resolve, TICK_MS));
  }
  await new Promise((resolve) => socket.close(resolve));
  if (sendErrors > 0) throw new Error(`loss probe sender: ${sendErrors} send errors`);
  return { sent: datagrams };
}

/**
 * Sends `datagrams` (at most 524,288) from namespace B to namespace A, `perTick` per
 * millisecond; returns { sent, received, duplicates, missing, dropShare, counters } where
 * counters are the pair's nft counters ({ arrived, dropped } packets, both namespaces).
 */
export async function measureDropShare(pair, { datagrams = 20_000, perTick = 20, deadlineMs = 60_000 } = {}) {
  const deadline = Date.now() + deadlineMs;
  if (pair.lossPercent > 0) pair.setLossPercent(pair.lossPercent); // zero the counters
  const receiverProcess = startChild(scriptPath, 'receiver', { commandPrefix: pair.commandPrefixA });
  let senderProcess = null;
  try {
    receiverProcess.send({ type: 'start', address: pair.addressA, deadline });
    const { port } = await receiverProcess.next('ready', deadline);
    senderProcess = startChild(scriptPath, 'sender', { commandPrefix: pair.commandPrefixB });
    senderProcess.send({ type: 'start', address: pair.addressA, port, datagrams, perTick, deadline });
    const { sent } = await senderProcess.next('result', deadline);
    receiverProcess.send({ type: 'sent', sent });
    const { received, duplicates } = await receiverProcess.next('result', deadline);
    await Promise.all([receiverProcess.exited(), senderProcess.exited()]);
    const missing = sent - received;
    return { sent, received, duplicates, missing, dropShare: missing / sent, counters: pair.lossCounters() };
  } finally {
    receiverProcess.stop();
    senderProcess?.stop();
  }
}

if (process.argv[1] === scriptPath) {
  const roleIndex = process.argv.indexOf('--role');
  await runChild(process.argv[roleIndex + 1], { receiver, sender }, 60_000);
}
