/**
 * The hot worker (hot.ts starts it): one thread that owns a reliable publication's or
 * subscription's io_uring socket and turns its protocol in a loop, never yielding to its
 * event loop, so a datagram or a completion is handled within a turn of arriving, with no
 * event-loop wake-up. It costs the core it runs on, all the time, whether or not data flows.
 *
 *   publication:  owner's producers --ring--> [worker: turn = doWork, submit, reap] --> socket
 *   subscription: socket --> [worker: turn = reap, doWork] --claim/copy/publish--> ring --> owner's consumer
 *
 * The owner asks through the control block (hot-layout.ts) and reads its words back.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Ring, type RingHandle } from '@flux/ring';
import {
  CAUGHT_UP_WORD,
  CLOSE_TIMEOUT_MS_WORD,
  COUNTERS_OFFSET_BYTES,
  CONTROL_INT32S,
  HotState,
  PACKED_WORD,
  PAUSED_WORD,
  SENDER_STATE_WORD,
  SENDER_STATES,
  STATE_WORD,
  STOP_WORD,
  counterNames,
  writeCounters,
} from './hot-layout.js';
import { HOT_COUNTERS_EVERY_TURNS, HOT_DELIVERY_WAIT_MS, HOT_PAUSE_FREE_SLOTS, HOT_RESUME_FREE_SLOTS } from './defaults.js';
import { ReliablePublication, type ReliablePublicationOptions } from './publication.js';
import { ReliableSubscription, type ReliableSubscriptionOptions } from './subscription.js';

interface HotWorkerData {
  role: 'publication' | 'subscription';
  options: ReliablePublicationOptions | (ReliableSubscriptionOptions & { streamId: number });
  ring: RingHandle;
  control: SharedArrayBuffer;
}

const data = workerData as HotWorkerData;
const words = new Int32Array(data.control, 0, CONTROL_INT32S);
const numbers = new Float64Array(data.control, COUNTERS_OFFSET_BYTES);
const names = counterNames(data.role);
const post = (message: object) => parentPort!.postMessage(message);
const errorMessage = (error: unknown) => {
  const e = error as NodeJS.ErrnoException;
  return { type: 'error', message: e?.message ?? String(error), code: e?.code, errno: e?.errno, syscall: e?.syscall };
};

async function runPublication(): Promise<void> {
  const ring = Ring.attach(data.ring);
  const publication = await ReliablePublication.openWith(data.options as ReliablePublicationOptions, { ring, busyPoll: true });
  publication.onError((error) => post(errorMessage(error)));
  const counters = publication.counters;
  const publish = () => {
    Atomics.store(words, SENDER_STATE_WORD, SENDER_STATES.indexOf(publication.state));
    writeCounters(
      words,
      numbers,
      names.map((name) => (counters as unknown as Record<string, number>)[name]),
    );
  };
  publish();
  Atomics.store(words, STATE_WORD, HotState.RUNNING); // before 'open': the owner's waits go on while RUNNING
  post({ type: 'open', backend: publication.backend, sessionId: publication.sessionId, datagramBytes: publication.datagramBytes });
  for (let turns = 0; Atomics.load(words, STOP_WORD) === 0; turns++) {
    publication.turn();
    // The owner's flush() waits for its ring cursor: report the cursor and whether it was packed and all of it consumed.
    const cursor = ring.cursor();
    Atomics.store(words, PACKED_WORD, cursor);
    Atomics.store(words, CAUGHT_UP_WORD, publication.drainedThrough(cursor) ? 1 : 0);
    if (turns % HOT_COUNTERS_EVERY_TURNS === 0) publish();
  }
  await publication.close(Atomics.load(words, CLOSE_TIMEOUT_MS_WORD));
  publish();
}

async function runSubscription(): Promise<void> {
  const options = data.options as ReliableSubscriptionOptions & { streamId: number };
  const ring = Ring.attach(data.ring);
  const producer = ring.createProducer();
  const subscription = await ReliableSubscription.openWith(options, { busyPoll: true });
  subscription.onError((error) => post(errorMessage(error)));
  let paused = false;
  // Each message is claimed, copied and published. Delivery pauses (the window holds what
  // arrives, flow control holds the sender) while fewer than HOT_PAUSE_FREE_SLOTS slots are
  // free: more than the 255 messages a datagram carries, so a claim finds room.
  subscription.onMessage(options.streamId, (bytes, offsetBytes, lengthBytes) => {
    let sequence = producer.tryClaim(1, lengthBytes);
    if (sequence < 0) {
      // Not reached under the pause rule; bounded all the same.
      const deadline = Date.now() + HOT_DELIVERY_WAIT_MS;
      while (sequence < 0 && Date.now() < deadline) sequence = producer.tryClaim(1, lengthBytes);
      if (sequence < 0) {
        subscription.counters.ringOverruns++; // counted, never silent: the consumer read nothing for HOT_DELIVERY_WAIT_MS
        return;
      }
    }
    ring.bytes.set(bytes.subarray(offsetBytes, offsetBytes + lengthBytes), ring.offsetOf(sequence));
    producer.publish(sequence, 1);
    if (!paused && !producer.hasCapacity(HOT_PAUSE_FREE_SLOTS)) {
      paused = true;
      subscription.pauseDelivery();
      Atomics.store(words, PAUSED_WORD, 1);
    }
  });
  const publish = () => {
    const values: Record<string, number> = {
      ...subscription.counters.snapshot(),
      ...Object.fromEntries(Object.entries(subscription.messageCounters.snapshot()).map(([k, v]) => [`message.${k}`, v])),
    };
    writeCounters(
      words,
      numbers,
      names.map((name) => values[name] ?? 0),
    );
  };
  Atomics.store(words, STATE_WORD, HotState.RUNNING); // before 'open', as above
  post({ type: 'open', backend: subscription.backend, address: subscription.address, port: subscription.port });
  for (let turns = 0; Atomics.load(words, STOP_WORD) === 0; turns++) {
    subscription.turn();
    if (paused && producer.hasCapacity(HOT_RESUME_FREE_SLOTS)) {
      paused = false;
      Atomics.store(words, PAUSED_WORD, 0);
      subscription.resumeDelivery();
    }
    if (turns % HOT_COUNTERS_EVERY_TURNS === 0) publish();
  }
  publish();
  await subscription.close();
}

(data.role === 'publication' ? runPublication() : runSubscription())
  .catch((error) => post({ ...errorMessage(error), fatal: true }))
  .finally(() => {
    Atomics.store(words, STATE_WORD, HotState.STOPPED);
    process.exit(0); // ends this worker thread only, whatever handle is left
  });
