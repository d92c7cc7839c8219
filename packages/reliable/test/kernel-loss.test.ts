/**
 * Real loss in the kernel: two network namespaces joined by a veth pair, and in each an
 * nftables rule that drops 5% of incoming UDP datagrams at random, so DATA, NAKs, STATUS and
 * retransmissions are all lost both ways. One million 64-byte messages must arrive exactly
 * once and in order, and the stream must end cleanly; once on each backend (io_uring where
 * @flux/uring is usable, whose GSO sends cross the veth as one packet of many datagrams, so
 * one drop loses a run of them; and node:dgram).
 *
 *   netns A                                                netns B
 *   [subscriber.mjs] 10.205.0.1 <------ veth ------> 10.205.0.2 [publisher.mjs]
 *   nft: on the veth, numgen random mod 100 < 5 -> drop    nft: the same
 *
 * Needs root, iproute2 and nft (Debian's nftables: installed with apt-get when missing, as
 * .ci/run does); otherwise it is skipped, saying why. The namespaces, the rule and the host
 * processes come from the repository's test-support/ (netns.mjs, child-host.mjs), shared
 * with @flux/udp's tests and the benchmarks. Host scripts import the built dist/ as a user
 * would. Every wait has a deadline; the namespaces are deleted afterwards.
 */
import type { ChildProcess } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { capability } from '@flux/uring';
import { killAll, startHost } from '../../../test-support/child-host.mjs';
import { lossUnavailableReason, openNetnsPair } from '../../../test-support/netns.mjs';

const SUBNET = '10.205.0';
const STREAM_ID = 3;
const LOSS_PERCENT = 5;
const DEADLINE_MS = 120_000;
const config = { count: 1_000_000, messageBytes: 64 };

const subscriberScript = new URL('./hosts/subscriber.mjs', import.meta.url).pathname;
const publisherScript = new URL('./hosts/publisher.mjs', import.meta.url).pathname;

// The veth keeps its default offload (wirePackets: false): node:dgram sends one packet per datagram anyway.
const skipReason = lossUnavailableReason({ install: true });
if (skipReason) console.warn(`kernel-loss test skipped: ${skipReason}`);
const opened = skipReason ? null : openNetnsPair({ lossPercent: LOSS_PERCENT, subnet: SUBNET, wirePackets: false });
const pair = opened?.pair ?? null;

const children: ChildProcess[] = [];
afterAll(() => {
  killAll(children);
  pair?.close();
});

const uring = capability();

describe.each(['io_uring', 'dgram'] as const)('@flux/reliable across a lossy kernel path, %s backend', (backend) => {
  const reason = skipReason ?? (backend === 'io_uring' && !uring.usable ? `needs io_uring (${uring.reason})` : null);
  it.skipIf(reason)(
    `delivers ${config.count.toLocaleString('en-US')} messages exactly once in order with ${LOSS_PERCENT}% of datagrams dropped both ways by nftables`,
    async () => {
      expect(opened?.reason ?? null).toBeNull(); // the prerequisites are there: setting up must work
      const { addressA, commandPrefixA, commandPrefixB } = pair!;
      const deadline = Date.now() + DEADLINE_MS;
      const hostConfig = JSON.stringify({ ...config, backend, deadlineMs: deadline });
      const subscriber = startHost(commandPrefixA, subscriberScript, [addressA, String(STREAM_ID), hostConfig], { children });
      const ready = await subscriber.next('ready', deadline);
      const port = ready.port;
      expect(ready.backend).toBe(backend);
      const publisher = startHost(commandPrefixB, publisherScript, [addressA, String(port), String(STREAM_ID), hostConfig], { children });
      const done = await publisher.next('done', deadline);
      subscriber.send({ type: 'finish' }); // if the end never came, report what arrived
      const report = await subscriber.next('report', deadline);
      const summary = JSON.stringify({ done, report });
      expect(done.connected, summary).toBe(true);
      expect(done.flushed, summary).toBe(true);
      expect(report.wrong, summary).toBe(0);
      expect(report.received, summary).toBe(config.count);
      expect(report.events, summary).toEqual(['begin', 'end']);
      expect(done.state, summary).toBe('ended');
      expect(done.backend, summary).toBe(backend);
      // The loss was real, and repaired.
      const loss = pair!.lossCounters();
      expect(loss.dropped).toBeGreaterThan(0);
      expect((done.counters as Record<string, number>).retransmits).toBeGreaterThan(0);
      console.log(`kernel loss (${backend}): dropped ${loss.dropped} of ${loss.arrived} packets; publisher ${JSON.stringify(done.counters)}`);
    },
    DEADLINE_MS + 10_000,
  );
});
