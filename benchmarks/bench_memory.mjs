// bench_memory: what an endpoint costs in memory: a ring, a @flux/udp publication and
// subscription, a @flux/reliable publication and subscription with their session, against
// a node:dgram socket pair, a TCP connection and a MessageChannel, each measured in a fresh
// process of its own.
//
//   [child process, --expose-gc]  gc, read process.memoryUsage()
//                                 open N pairs (both ends in this process, over loopback)
//                                 move M 64-byte messages through each pair (so buffers,
//                                 rings and sessions are in use, their pages touched)
//                                 gc, read again; the difference / N is one pair's cost
//
//   ring          Ring.create (4,096 slots x 64 B, the SDK's default shape here), one
//                 consumer; M messages offered and polled
//   udp           Publication + Subscription (node:dgram backend), defaults
//   udpUring      the same on io_uring (skipped, saying why, where it is not usable)
//   reliable      ReliablePublication + ReliableSubscription, defaults: the session, its
//                 window and retransmit buffer included
//   dgram         two node:dgram sockets, one datagram per message
//   tcp           a net.Server connection and its client, one write per message
//   port          a MessageChannel, one postMessage per message
//
// Figures per pair: RSS (resident memory the process gained, pages actually touched),
// ArrayBuffer bytes (what process.memoryUsage().arrayBuffers counts: rings, socket buffers
// held by JS) and JS heap. Kernel socket buffers are not in any of them. No ratios: the
// baselines do less (no ring, no retransmission), and the rows say what each holds.
// Variants (for --only): ring, udp, udpUring, reliable, reliableUring, dgram, tcp, port.
// Run: node bench_memory.mjs [--json] [--runs N] [--quick] [--smoke] [--only NAMES] [--help]
import dgram from 'node:dgram';
import { fork } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { MessageChannel } from 'node:worker_threads';
import { ReliablePublication, ReliableSubscription } from '@flux/reliable';
import { Ring } from '@flux/ring';
import { Publication, Subscription } from '@flux/udp';
import { capability } from '@flux/uring';
import { parseArgs, reporter, runInterleaved, scaleOf, verify } from './lib/harness.mjs';
import { yieldToEventLoop } from './lib/indexed-messages.mjs';

const scriptPath = fileURLToPath(import.meta.url);
const HOST = '127.0.0.1';
const MESSAGE_BYTES = 64;
const FULL_PAIRS = 16;
const FULL_MESSAGES = 2000; // per pair
const DEADLINE_MS = 60_000;
const uringReason = capability().usable ? null : capability().reason;

const deadlineAt = () => Date.now() + DEADLINE_MS;

const QUIET_MS = 500; // UDP may drop: nothing more for this long after sending ends the wait

/**
 * Sends `messages` through `offer` (false = back-pressured, retried after a yield) and waits
 * until `received()` reaches them, or (over UDP, which may drop) stops growing for QUIET_MS.
 * Memory is measured after either: the buffers, rings and sessions have all been in use.
 */
async function pump(offer, received, messages, what) {
  const deadline = deadlineAt();
  const message = new Uint8Array(MESSAGE_BYTES);
  for (let i = 0; i < messages; ) {
    if (offer(message)) i++;
    else await yieldToEventLoop(); // back-pressured: let the other end (and the sender) run
    if (Date.now() > deadline) throw new Error(`${what}: deadline sending`);
  }
  let seen = -1;
  let quietSince = Date.now();
  while (received() < messages && Date.now() - quietSince < QUIET_MS) {
    if (Date.now() > deadline) throw new Error(`${what}: deadline receiving`);
    if (received() !== seen) {
      seen = received();
      quietSince = Date.now();
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** A reliable publication + subscription pair on `backend`, `messages` sent through. */
async function openReliable(messages, backend) {
  const subscription = await ReliableSubscription.open({ port: 0, address: HOST, backend });
  let received = 0;
  subscription.onMessage(1, () => received++);
  const publication = await ReliablePublication.open({ host: HOST, port: subscription.port, streamId: 1, backend });
  verify(await publication.connected(10_000), 'reliable: no SETUP answer');
  await pump(
    (m) => publication.offer(m) >= 0,
    () => received,
    messages,
    'reliable',
  );
  return {
    keep: [publication, subscription],
    close: async () => {
      await publication.close();
      await subscription.close();
    },
  };
}

// Each kind: open one pair, move `messages` through it; returns what keeps it alive and closes it.
const kinds = {
  ring: {
    label: 'ring, 4,096 x 64 B slots, one consumer',
    async open(messages) {
      const ring = Ring.create({ capacity: 4096, maxMessageBytes: MESSAGE_BYTES });
      const consumer = ring.openConsumer(ring.addConsumer());
      const producer = ring.createProducer();
      const message = new Uint8Array(MESSAGE_BYTES);
      let received = 0;
      for (let i = 0; i < messages; ) {
        if (producer.offer(message) >= 0) i++;
        else received += consumer.poll(() => {});
      }
      while (received < messages) received += consumer.poll(() => {});
      return { keep: ring, close: async () => {} };
    },
  },
  udp: { label: '@flux/udp publication + subscription (node:dgram)', open: (messages) => openUdp(messages, 'dgram') },
  udpUring: { label: '@flux/udp publication + subscription (io_uring)', open: (messages) => openUdp(messages, 'io_uring'), pending: uringReason },
  reliable: {
    label: '@flux/reliable publication + subscription, one session (node:dgram)',
    open: (messages) => openReliable(messages, 'dgram'),
  },
  reliableUring: {
    label: '@flux/reliable publication + subscription, one session (io_uring)',
    open: (messages) => openReliable(messages, 'io_uring'),
    pending: uringReason,
  },
  dgram: {
    label: 'node:dgram socket pair',
    async open(messages) {
      const receiver = dgram.createSocket('udp4');
      let received = 0;
      receiver.on('message', () => received++);
      await new Promise((resolve) => receiver.bind(0, HOST, resolve));
      const sender = dgram.createSocket('udp4');
      await new Promise((resolve) => sender.connect(receiver.address().port, HOST, resolve));
      let inFlight = 0;
      await pump(
        (m) => {
          if (inFlight >= 64) return false;
          inFlight++;
          sender.send(m, () => inFlight--);
          return true;
        },
        () => received,
        messages,
        'dgram',
      );
      return {
        keep: [sender, receiver],
        close: async () => {
          await new Promise((resolve) => sender.close(resolve));
          await new Promise((resolve) => receiver.close(resolve));
        },
      };
    },
  },
  tcp: {
    label: 'TCP connection (node:net, both ends)',
    async open(messages) {
      let bytes = 0;
      const server = net.createServer((socket) => socket.on('data', (chunk) => (bytes += chunk.length)));
      await new Promise((resolve) => server.listen(0, HOST, resolve));
      const client = net.connect({ host: HOST, port: server.address().port, noDelay: true });
      await new Promise((resolve) => client.once('connect', resolve));
      await pump(
        (m) => client.write(m) || !client.writableNeedDrain,
        () => bytes / MESSAGE_BYTES,
        messages,
        'tcp',
      );
      return {
        keep: [server, client],
        close: async () => {
          client.destroy();
          await new Promise((resolve) => server.close(resolve));
        },
      };
    },
  },
  port: {
    label: 'MessageChannel',
    async open(messages) {
      const { port1, port2 } = new MessageChannel();
      let received = 0;
      port2.on('message', () => received++);
      let sent = 0;
      const offer = (m) => {
        if (sent - received >= 256) return false;
        port1.postMessage(m);
        sent++;
        return true;
      };
      await pump(offer, () => received, messages, 'port');
      return {
        keep: [port1, port2],
        close: async () => {
          port1.close();
          port2.close();
        },
      };
    },
  },
};

async function openUdp(messages, backend) {
  const subscription = await Subscription.open({ port: 0, address: HOST, backend });
  let received = 0;
  subscription.onMessage(1, () => received++);
  const publication = await Publication.open({ host: HOST, port: subscription.port, streamId: 1, backend });
  await pump(
    (m) => publication.offer(m) >= 0,
    () => received,
    messages,
    `udp (${backend})`,
  );
  return {
    keep: [publication, subscription],
    close: async () => {
      await publication.close();
      await subscription.close();
    },
  };
}

/** In the child: the memory N pairs of `kind` cost, per pair. */
async function measureInChild({ kind, pairs, messages }) {
  const settle = async () => {
    for (let i = 0; i < 3; i++) {
      globalThis.gc();
      await yieldToEventLoop();
    }
    return process.memoryUsage();
  };
  const before = await settle();
  const opened = [];
  for (let i = 0; i < pairs; i++) opened.push(await kinds[kind].open(messages));
  const after = await settle();
  for (const pair of opened) await pair.close();
  const per = (key) => (after[key] - before[key]) / pairs;
  return { rss: per('rss'), arrayBuffers: per('arrayBuffers'), heapUsed: per('heapUsed') };
}

if (process.argv.includes('--child')) {
  const options = JSON.parse(process.argv[process.argv.indexOf('--child') + 1]);
  process.send(await measureInChild(options), () => process.exit(0));
} else {
  const args = parseArgs({ variants: Object.keys(kinds) });
  const scale = scaleOf(args);
  const pairs = args.smoke ? 4 : FULL_PAIRS;
  const messages = Math.max(100, Math.round(FULL_MESSAGES * Math.min(1, scale * 4)));
  const names = Object.keys(kinds).filter((name) => !kinds[name].pending);
  const report = reporter(
    'memory',
    args,
    '  one child process per measurement: N pairs of an endpoint kind, both ends, messages moved through each; memory gained / N',
    {
      pairs,
      messagesPerPair: `${messages} of ${MESSAGE_BYTES} B`,
      measure: 'process.memoryUsage() after 3 x (gc + an event-loop turn), before and after opening the pairs (node --expose-gc)',
      notCounted: 'kernel socket buffers and io_uring rings the kernel allocates',
      skipped: uringReason ? `udpUring: ${uringReason}` : 'none',
      runs: args.runs,
    },
  );
  const measureOnce = (kind) =>
    new Promise((resolve, reject) => {
      const child = fork(scriptPath, ['--child', JSON.stringify({ kind, pairs, messages })], {
        execArgv: ['--expose-gc'],
        stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      });
      const timer = setTimeout(() => {
        child.kill();
        reject(new Error(`${kind}: child did not report within ${DEADLINE_MS} ms`));
      }, DEADLINE_MS);
      child.once('message', (result) => {
        clearTimeout(timer);
        resolve(result);
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        if (code !== 0) reject(new Error(`${kind}: child exited with code ${code}`));
      });
    });
  const { measured, method } = await runInterleaved(args, names, measureOnce);
  for (const name of names.filter((n) => measured[n])) {
    for (const [metric, key] of [
      ['rss/pair', 'rss'],
      ['arraybuffers/pair', 'arrayBuffers'],
      ['heap/pair', 'heapUsed'],
    ]) {
      report.record({ variant: kinds[name].label, metric, unit: 'B', values: measured[name].map((m) => m[key]), better: 'lower' });
    }
  }
  report.method(method);
}
