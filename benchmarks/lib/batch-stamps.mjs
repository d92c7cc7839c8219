// The checks of the posting baselines (MessagePort, BroadcastChannel) in the ring throughput,
// fan-out and MPSC benches: each post is one buffer of `batch` messages of `messageBytes`,
// each message stamped in its first int32 (and, with several producers, its second).
//
//   one producer:   word 0 = the message's index             (0, 1, 2, ... in order)
//   P producers:    word 0 = the producer's number (0..P-1), word 1 = its index among that
//                   producer's messages (in order per producer; producers interleave freely)

/** Checks posted batches from one producer: every message in order, each once, each batch whole. */
export class BatchStampChecker {
  expected = 0; // also: messages received
  bad = 0;

  constructor(batch, messageBytes) {
    this.batch = batch;
    this.messageBytes = messageBytes;
    this.messageInt32s = messageBytes >> 2;
  }

  /** One posted buffer (a Uint8Array). */
  check(buffer) {
    const { batch, messageInt32s } = this;
    if (buffer.byteLength !== batch * this.messageBytes) {
      this.bad += batch;
      this.expected += batch;
      return;
    }
    const stamps = new Int32Array(buffer.buffer, buffer.byteOffset, buffer.byteLength >> 2);
    for (let i = 0; i < batch; i++) if (stamps[i * messageInt32s] !== this.expected++) this.bad++;
  }
}

/** Per-producer order: `check(producer, index)` counts a message out of order, repeated, or from no producer. */
export class ProducerOrderChecker {
  received = 0;
  bad = 0;

  constructor(producers) {
    this.producers = producers;
    this.next = new Int32Array(producers);
  }

  check(producer, index) {
    this.received++;
    if (producer < 0 || producer >= this.producers || index !== this.next[producer]) this.bad++;
    else this.next[producer]++;
  }
}
