/**
 * @flux/udp between two hosts: two network namespaces joined by a veth pair, a subscriber
 * process in one and a publisher process in the other, each a separate `node` run with
 * `ip netns exec` and importing the built dist/ (as a user would).
 *
 *   netns A                                             netns B
 *   [subscriber.mjs] 10.203.0.1/24 <---- veth ----> 10.203.0.2/24 [publisher.mjs]
 *        |  progress every chunk (IPC)                       ^  chunk sent / go (IPC)
 *        +-------------------> [this test] ------------------+
 *
 * 100,000 messages of 64 bytes and 200 of 5,000 bytes (each sent as fragments) are paced by
 * chunks: the publisher flushes a chunk and waits until the subscriber has reported receiving
 * all of it, so the receive buffer never overflows and any loss is a defect. The subscriber
 * checks every message's index, length and bytes. Needs root and iproute2; otherwise it is
 * skipped, saying why. The namespaces and host processes come from the repository's
 * test-support/ (netns.mjs, child-host.mjs), shared with @flux/reliable's tests and the
 * benchmarks. Every wait has a deadline; the namespaces are deleted afterwards.
 */
import type { ChildProcess } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { capability } from '@flux/uring';
import { killAll, startHost } from '../../../test-support/child-host.mjs';
import { openNetnsPair } from '../../../test-support/netns.mjs';

const SUBNET = '10.203.0';
const STREAM_ID = 42;
const DEADLINE_MS = 60_000;
const CHUNK_DEADLINE_MS = 10_000; // a chunk whose tail was lost never completes: fail after this
const config = { smallCount: 100_000, smallBytes: 64, largeCount: 200, largeBytes: 5_000, chunk: 1_000 };
const total = config.smallCount + config.largeCount;

const subscriberScript = new URL('./hosts/subscriber.mjs', import.meta.url).pathname;
const publisherScript = new URL('./hosts/publisher.mjs', import.meta.url).pathname;

// The veth keeps its default offload (wirePackets: false): io_uring's GSO sends cross it as they would a real NIC's.
const { pair, reason: skipReason } = openNetnsPair({ subnet: SUBNET, wirePackets: false });
if (skipReason) console.warn(`two-hosts test skipped: ${skipReason}`);

const children: ChildProcess[] = [];
afterAll(() => {
  killAll(children);
  pair?.close();
});

// Both backends: auto (io_uring here) and node:dgram forced by the opt-out variable.
const backends = [
  { name: 'auto', env: {} as Record<string, string>, expected: capability().usable ? 'io_uring' : 'dgram' },
  { name: 'FLUX_URING=0', env: { FLUX_URING: '0' }, expected: 'dgram' },
];

describe.each(backends)('@flux/udp between two network namespaces, backend $name', ({ env, expected }) => {
  it.skipIf(skipReason)(
    `${total.toLocaleString('en-US')} messages (${config.largeCount} fragmented) cross a veth link intact and in order`,
    async () => {
      const deadline = Date.now() + DEADLINE_MS;
      const hostConfig = JSON.stringify({ ...config, deadlineMs: deadline });
      const { addressA, commandPrefixA, commandPrefixB } = pair!;
      const subscriber = startHost(commandPrefixA, subscriberScript, [addressA, String(STREAM_ID), hostConfig], { env, children });
      const { port, backend: subscriberBackend } = await subscriber.next('ready', deadline);
      expect(subscriberBackend).toBe(expected);
      const publisher = startHost(commandPrefixB, publisherScript, [addressA, String(port), String(STREAM_ID), hostConfig], { env, children });

      // Progress reports arrive in order; keep the newest. A loss fails at once.
      let receivedSoFar = 0;
      const waitForReceived = async (count: number) => {
        const chunkDeadline = Math.min(deadline, Date.now() + CHUNK_DEADLINE_MS);
        while (receivedSoFar < count) {
          const progress = await subscriber.next('progress', chunkDeadline);
          receivedSoFar = progress.received as number;
          if ((progress.lost as number) > 0) throw new Error(`${progress.lost as number} lost or dropped by message ${receivedSoFar}`);
        }
      };

      let pacing: Error | null = null;
      try {
        for (let sentSoFar = 0; sentSoFar < total; ) {
          sentSoFar = (await publisher.next('chunk', deadline)).sent as number;
          await waitForReceived(sentSoFar);
          publisher.send({ type: 'go' });
        }
      } catch (error) {
        pacing = error as Error; // report what the subscriber saw before failing
      }
      const done = pacing ? null : await publisher.next('done', deadline);
      subscriber.send({ type: 'finish' });
      const report = await subscriber.next('report', deadline);
      if (pacing) throw new Error(`${pacing.message}\nsubscriber: ${JSON.stringify(report)}`);

      const subscriberCounters = report.counters as Record<string, number>;
      const publisherCounters = done!.counters as Record<string, number>;
      expect(report.firstProblem).toBeNull();
      expect(report.wrong).toBe(0);
      expect(report.received).toBe(total);
      expect(subscriberCounters.messagesReceived).toBe(total);
      expect(subscriberCounters.framesLost).toBe(0);
      expect(subscriberCounters.messagesLostInReassembly).toBe(0);
      expect(subscriberCounters.dropped).toBe(0);
      expect(done!.backend).toBe(expected);
      expect(publisherCounters.messagesSent).toBe(total);
      expect(publisherCounters.sendErrors).toBe(0);
      // 5,000 bytes in frames of at most 1,452 (1,472-byte datagrams): 4 fragments each
      expect(publisherCounters.fragmentsSent).toBe(config.largeCount * Math.ceil(config.largeBytes / 1452));
      expect(subscriberCounters.datagramsReceived).toBe(publisherCounters.datagramsSent);
      expect(await subscriber.exited(deadline)).toBe(0);
      expect(await publisher.exited(deadline)).toBe(0);
    },
    DEADLINE_MS + 30_000,
  );
});
