/**
 * Fairness: one @flux/reliable stream and one TCP CUBIC stream share a rate-limited
 * bottleneck (a tc tbf qdisc on the sender's veth: the rate, and a 20 ms queue that drops
 * beyond it), both writing 64-byte messages as fast as they can, from one process to one
 * process. Over 10 s (after 2 s of warm-up) each must get between 0.5x and 2x its fair share
 * (half of what both got). The same run with congestionControl 'static' shows why it is not
 * the default: it keeps the bottleneck's queue overflowing whatever is lost, and resends
 * what it lost there (asserted: at least 4x CUBIC's retransmissions; the shares and the
 * link's use are printed).
 *
 *   netns A                                                      netns B
 *   [fair-receiver.mjs] 10.206.0.1 <-- veth <-- tbf 100 Mbit/s -- 10.206.0.2 [fair-sender.mjs]
 *     ReliableSubscription + TCP server                             ReliablePublication + TCP socket
 *
 * Needs root, iproute2 with tc; otherwise skipped, saying why. Every wait has a deadline.
 */
import type { ChildProcess } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { killAll, startHost } from '../../../test-support/child-host.mjs';
import { openNetnsPair, rateLimitUnavailableReason } from '../../../test-support/netns.mjs';

const SUBNET = '10.206.0';
const STREAM_ID = 4;
const RATE_BITS_PER_SECOND = 100_000_000;
const WARM_UP_MS = 2_000;
const MEASURE_MS = 10_000;
const DEADLINE_MS = 60_000;
const receiverScript = new URL('./hosts/fair-receiver.mjs', import.meta.url).pathname;
const senderScript = new URL('./hosts/fair-sender.mjs', import.meta.url).pathname;

const skipReason = rateLimitUnavailableReason();
if (skipReason) console.warn(`fairness test skipped: ${skipReason}`);
const opened = skipReason ? null : openNetnsPair({ subnet: SUBNET, wirePackets: false });
const pair = opened?.pair ?? null;
const children: ChildProcess[] = [];
afterAll(() => {
  killAll(children);
  pair?.close();
});

interface Shares {
  reliable: number;
  tcp: number;
  /** Both together, as a share of the bottleneck's rate. */
  utilization: number;
  counters: Record<string, number>;
}

async function share(congestionControl: 'cubic' | 'static'): Promise<Shares> {
  const { addressA, commandPrefixA, commandPrefixB } = pair!;
  const deadline = Date.now() + DEADLINE_MS;
  const config = JSON.stringify({ messageBytes: 64, backend: 'auto', congestionControl, deadlineMs: deadline });
  const receiver = startHost(commandPrefixA, receiverScript, [addressA, String(STREAM_ID), config], { children });
  const ready = await receiver.next('ready', deadline);
  const sender = startHost(commandPrefixB, senderScript, [addressA, String(ready.reliablePort), String(ready.tcpPort), String(STREAM_ID), config], {
    children,
  });
  await sender.next('started', deadline);
  await new Promise((resolve) => setTimeout(resolve, WARM_UP_MS)); // both have found their rate (not a timing assertion: a measurement window)
  receiver.send({ type: 'mark' });
  const start = await receiver.next('counts', deadline);
  const startedAt = performance.now();
  await new Promise((resolve) => setTimeout(resolve, MEASURE_MS));
  receiver.send({ type: 'mark', last: true });
  const end = await receiver.next('counts', deadline);
  const seconds = (performance.now() - startedAt) / 1000;
  sender.send({ type: 'stop' });
  const stopped = await sender.next('stopped', deadline);
  await Promise.all([receiver.exited(deadline), sender.exited(deadline)]);
  const reliable = (end.reliable as number) - (start.reliable as number);
  const tcp = (end.tcp as number) - (start.tcp as number);
  const fair = (reliable + tcp) / 2;
  return {
    reliable: reliable / fair,
    tcp: tcp / fair,
    utilization: ((reliable + tcp) * 64 * 8) / seconds / RATE_BITS_PER_SECOND,
    counters: stopped.counters as Record<string, number>,
  };
}

describe('@flux/reliable beside TCP CUBIC at a shared bottleneck', () => {
  it.skipIf(skipReason)(
    'each gets 0.5x to 2x its fair share with CUBIC on (the default); with static the same run shows what it takes',
    async () => {
      expect(opened?.reason ?? null).toBeNull();
      pair!.setTcpCongestionControl('cubic');
      pair!.setRateLimit(RATE_BITS_PER_SECOND);
      const cubic = await share('cubic');
      const statik = await share('static');
      const tbf = pair!.rateLimitCounters();
      const line = (name: string, s: Shares) =>
        `${name}: reliable ${s.reliable.toFixed(2)}x, TCP ${s.tcp.toFixed(2)}x of a fair share; ${(100 * s.utilization).toFixed(0)}% of ${RATE_BITS_PER_SECOND / 1e6} Mbit/s in 64-byte messages; congestion events ${s.counters.congestionEvents}, retransmits ${s.counters.retransmits}`;
      console.log(`fairness\n  ${line("'cubic'", cubic)}\n  ${line("'static'", statik)}\n  tbf: ${JSON.stringify(tbf)}`);
      expect(cubic.reliable).toBeGreaterThanOrEqual(0.5);
      expect(cubic.reliable).toBeLessThanOrEqual(2);
      expect(cubic.tcp).toBeGreaterThanOrEqual(0.5);
      expect(cubic.tcp).toBeLessThanOrEqual(2);
      expect(cubic.counters.congestionEvents).toBeGreaterThan(0); // the bottleneck's drops were answered
      expect(statik.counters.congestionEvents).toBe(0);
      // What 'static' costs at a full queue: it keeps overflowing it, and resends what it lost
      // (measured here: 76x the retransmissions, 64% against 93% of the link delivered).
      expect(cubic.counters.retransmits * 4).toBeLessThan(statik.counters.retransmits);
    },
    2 * DEADLINE_MS,
  );
});
