// The minimal SharedArrayBuffer handoff (lib/sab-handoff.mjs), the limit row of the ring
// throughput benches, checks every message as the Flux consumer does: these tests show its
// check catches a corrupted or repeated stamp, and that messages cross its wrap in order
// between two threads (bounded by the roles' deadline and the test's timeout).
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { createSabHandoff, sabHandoffConsumer, sabHandoffProducer } from './lib/sab-handoff.mjs';

const DEADLINE_MS = 20_000;
const SLOT_BYTES = 64;
const HANDOFF_URL = new URL('./lib/sab-handoff.mjs', import.meta.url).href;

/** A barrier both roles pass at once in one thread (one party already arrived). */
function passedBarrier() {
  const barrier = new Int32Array(new SharedArrayBuffer(64));
  barrier[0] = 1;
  return barrier;
}

describe('the minimal SharedArrayBuffer handoff', () => {
  it.each([false, true])('hands over a full ring in order (inPlace %s), and its consumer counts a corrupted stamp', (inPlace) => {
    const handoff = createSabHandoff(64, SLOT_BYTES);
    sabHandoffProducer({ handoff, count: 64, batch: 16, barrier: passedBarrier(), deadlineMs: DEADLINE_MS, inPlace });
    expect(sabHandoffConsumer({ handoff, count: 64, barrier: passedBarrier(), deadlineMs: DEADLINE_MS })).toMatchObject({ received: 64, bad: 0 });

    const corrupted = createSabHandoff(64, SLOT_BYTES);
    sabHandoffProducer({ handoff: corrupted, count: 64, batch: 16, barrier: passedBarrier(), deadlineMs: DEADLINE_MS, inPlace });
    const slots = new Int32Array(corrupted.buffer, 256);
    slots[5 * (SLOT_BYTES / 4)] = 4; // message 5 carries message 4's stamp: a repeat
    expect(sabHandoffConsumer({ handoff: corrupted, count: 64, barrier: passedBarrier(), deadlineMs: DEADLINE_MS })).toMatchObject({ bad: 1 });
  });

  it('refuses a batch that does not divide the capacity, and a capacity that is not a power of two', () => {
    expect(() => createSabHandoff(48, SLOT_BYTES)).toThrow('48');
    expect(() => sabHandoffProducer({ handoff: createSabHandoff(64, SLOT_BYTES), count: 64, batch: 24, barrier: passedBarrier(), deadlineMs: 1 })).toThrow(
      '24',
    );
  });

  it('carries 200,000 messages between two threads through 16 slots, every one in order', async () => {
    const handoff = createSabHandoff(16, SLOT_BYTES);
    const barrier = new Int32Array(new SharedArrayBuffer(64));
    const run = (role) =>
      new Promise((resolve, reject) => {
        const code = `const { parentPort, workerData } = require('node:worker_threads');
          import(workerData.url).then((m) => parentPort.postMessage(m[workerData.role](workerData.args)), (e) => { throw e; });`;
        const worker = new Worker(code, {
          eval: true,
          workerData: { url: HANDOFF_URL, role, args: { handoff, count: 200_000, batch: 4, barrier, deadlineMs: DEADLINE_MS } },
        });
        worker.once('message', (result) => {
          resolve(result);
          void worker.terminate();
        });
        worker.once('error', reject);
      });
    const [, consumed] = await Promise.all([run('sabHandoffProducer'), run('sabHandoffConsumer')]);
    expect(consumed).toMatchObject({ received: 200_000, bad: 0 });
  }, 30_000);
});
