// Flux endpoints for bench_reliable_delivery, on the contract written at the top of
// stream-endpoints.mjs: @flux/udp (no retransmission: the rate @flux/reliable is held to
// when nothing is lost) and @flux/reliable (with or without FEC).
//
// Both write messages in place into the publication's ring: claim `count` slots, fill each,
// publish once per batch; a failed claim (ring full) is the back-pressure signal.
import { HotReliablePublication, HotReliableSubscription, ReliablePublication, ReliableSubscription } from '@flux/reliable';
import { Publication, Subscription } from '@flux/udp';
import { verify } from './harness.mjs';
import { RECEIVE_BUFFER_BYTES } from './stream-endpoints.mjs';
import { yieldToEventLoop } from './indexed-messages.mjs';

export const STREAM_ID = 7;
export const RING_CAPACITY = 1 << 14; // slots, as fluxSmall in bench_transport_comparison

/** sendBatch over a ring: claim count slots, fill each in place, publish the batch. */
function ringSender(ring, maxMessageBytes) {
  const producer = ring.createProducer();
  const bytes = ring.bytes;
  return (count, fill) => {
    const first = producer.tryClaim(count, maxMessageBytes);
    if (first < 0) return false; // BACK_PRESSURED: the ring is full
    for (let i = 0; i < count; i++) fill(bytes, ring.offsetOf(first + i));
    producer.publish(first, count);
    return true;
  };
}

/** Waits for ring room by yielding: the publication's sender drains the ring on this event loop. */
async function yieldUntil(deadline, what) {
  if (Date.now() > deadline) throw new Error(`${what}: deadline`);
  await yieldToEventLoop();
}

// ---- @flux/udp (node:dgram by default; io_uring on request), the lossless rate base ------------

export async function openFluxUdpReceiver({ host, onMessage, backend = 'dgram' }) {
  const subscription = await Subscription.open({ port: 0, address: host, receiveBufferBytes: RECEIVE_BUFFER_BYTES, backend });
  subscription.onMessage(STREAM_ID, onMessage);
  return {
    port: subscription.port,
    async close() {
      const counters = subscription.counters.snapshot();
      await subscription.close();
      return counters;
    },
  };
}

/**
 * The sender contract over a publication's ring (either package): batches claimed and
 * published in place; finish() flushes (for @flux/reliable: until the subscription consumed
 * everything), closes, and checks every message was sent; `failures(counters)` names any fault.
 */
/**
 * The sender contract over a publication's ring: claim, fill, publish; flush and close at
 * the end, then its counters (`snapshot`: a hot publication's are read from its worker, so
 * after close they are final).
 */
function ringEndpoint(publication, maxMessageBytes, name, failures, snapshot = () => publication.counters.snapshot()) {
  let messages = 0;
  const sendBatch = ringSender(publication.ring, maxMessageBytes);
  return {
    sendBatch(count, fill) {
      if (!sendBatch(count, fill)) return false;
      messages += count;
      return true;
    },
    waitForRoom: (deadline) => yieldUntil(deadline, name),
    async finish(deadline) {
      verify(await publication.flush(Math.max(1, deadline - Date.now())), `${name}: flush timed out`);
      await publication.close(Math.max(1, Math.min(5000, deadline - Date.now())));
      const counters = snapshot();
      verify(counters.messagesSent === messages && failures(counters) === '', `${name}: sent ${counters.messagesSent} of ${messages}${failures(counters)}`);
      return counters;
    },
  };
}

export async function openFluxUdpSender({ host, port, maxMessageBytes, backend = 'dgram', ringCapacity = RING_CAPACITY }) {
  const publication = await Publication.open({ host, port, streamId: STREAM_ID, maxMessageBytes, ringCapacity, backend });
  return ringEndpoint(publication, maxMessageBytes, 'flux udp sender', (counters) => (counters.sendErrors === 0 ? '' : `, ${counters.sendErrors} send errors`));
}

// ---- @flux/reliable (either backend; node:dgram unless asked) ------------------------------

export async function openReliableReceiver({ host, maxMessageBytes, onMessage, backend = 'dgram' }) {
  const subscription = await ReliableSubscription.open({ port: 0, address: host, maxMessageBytes, receiveBufferBytes: RECEIVE_BUFFER_BYTES, backend });
  subscription.onMessage(STREAM_ID, onMessage);
  return {
    port: subscription.port,
    async close() {
      const counters = { ...subscription.counters.snapshot(), ...subscription.messageCounters.snapshot() };
      await subscription.close();
      return counters;
    },
  };
}

export async function openReliableSender({ host, port, maxMessageBytes, fecGroupDatagrams = 0, backend = 'dgram', congestionControl = 'cubic' }) {
  const publication = await ReliablePublication.open({
    host,
    port,
    streamId: STREAM_ID,
    maxMessageBytes,
    ringCapacity: RING_CAPACITY,
    fecGroupDatagrams,
    backend,
    congestionControl,
  });
  verify(await publication.connected(10_000), 'flux reliable sender: the subscription never answered SETUP');
  return ringEndpoint(publication, maxMessageBytes, 'flux reliable sender', () => '');
}

/** The endpoints of each library on io_uring (CUBIC, the default, for @flux/reliable), for the benches' transport tables. */
export const fluxUdpOnUring = {
  openReceiver: (options) => openFluxUdpReceiver({ ...options, backend: 'io_uring' }),
  openSender: (options) => openFluxUdpSender({ ...options, backend: 'io_uring' }),
};
export const reliableOnUring = {
  openReceiver: (options) => openReliableReceiver({ ...options, backend: 'io_uring' }),
  openSender: (options) => openReliableSender({ ...options, backend: 'io_uring' }),
};

// ---- @flux/reliable's hot mode: a worker busy-polls each socket --------------------------

/**
 * The hot subscription's ring read on this thread: poll, and when nothing came, a turn of
 * the event loop (setImmediate) so the process's other work (the bench's IPC) runs: this
 * thread spins too, beside the worker.
 */
export async function openHotReliableReceiver({ host, maxMessageBytes, onMessage }) {
  const subscription = await HotReliableSubscription.open({
    port: 0,
    address: host,
    streamId: STREAM_ID,
    maxMessageBytes,
    receiveBufferBytes: RECEIVE_BUFFER_BYTES,
  });
  let open = true;
  const reading = (async () => {
    while (open) {
      if (subscription.consumer.poll(onMessage) === 0) await new Promise((resolve) => setImmediate(resolve));
    }
  })();
  return {
    port: subscription.port,
    async close() {
      open = false;
      await reading;
      const counters = subscription.counters();
      await subscription.close();
      return counters;
    },
  };
}

export async function openHotReliableSender({ host, port, maxMessageBytes }) {
  const publication = await HotReliablePublication.open({ host, port, streamId: STREAM_ID, maxMessageBytes, ringCapacity: RING_CAPACITY });
  verify(await publication.connected(10_000), 'flux hot reliable sender: the subscription never answered SETUP');
  return ringEndpoint(
    publication,
    maxMessageBytes,
    'flux hot reliable sender',
    () => '',
    () => publication.counters(),
  );
}
