// The lossy link the reliable-delivery bench runs on (test-support/netns.mjs): two network namespaces
// joined by a veth pair, with an nftables rule dropping 5% of incoming packets in both.
// 20,000 numbered UDP datagrams are sent across, paced so the receiver keeps up: with the
// rule about 5% never arrive (the rule's own counter says how many it dropped); without it
// none are lost. Needs root, `ip` and `nft`; otherwise skipped, saying why. No timing is
// asserted; every wait has a deadline; the namespaces are deleted afterwards.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { lossUnavailableReason, netnsUnavailableReason, openNetnsPair } from '../test-support/netns.mjs';
import { measureDropShare } from './lib/netns-loss-probe.mjs';

const LOSS_PERCENT = 5;
const DATAGRAMS = 20_000;
const DEADLINE_MS = 60_000;
const MAX_OVERFLOW_SHARE = 0.01; // paced as it is, the receive buffer does not overflow; this allows a starved receiver a little

const skipReason = lossUnavailableReason();
const netnsReason = netnsUnavailableReason();
if (skipReason) console.warn(`netns loss test skipped: ${skipReason}`);

describe('a namespace pair with a random-loss rule', () => {
  let pair = null;
  afterAll(() => pair?.close());

  it.skipIf(skipReason)(
    `drops about ${LOSS_PERCENT}% of ${DATAGRAMS.toLocaleString('en-US')} datagrams, then nothing once the rule is removed`,
    async () => {
      const opened = openNetnsPair({ lossPercent: LOSS_PERCENT });
      expect(opened.reason).toBeNull();
      pair = opened.pair;

      const lossy = await measureDropShare(pair, { datagrams: DATAGRAMS, deadlineMs: DEADLINE_MS });
      expect(lossy.sent).toBe(DATAGRAMS);
      expect(lossy.duplicates).toBe(0);
      expect(lossy.dropShare).toBeGreaterThanOrEqual(0.02);
      expect(lossy.dropShare).toBeLessThanOrEqual(0.09);
      // What went missing is what the rule dropped: its counter saw every datagram arrive, and
      // a receive buffer that overflowed (a starved receiver) would only add a few more.
      expect(lossy.counters.arrived).toBeGreaterThanOrEqual(DATAGRAMS);
      expect(lossy.missing).toBeGreaterThanOrEqual(lossy.counters.dropped);
      expect(lossy.missing - lossy.counters.dropped).toBeLessThanOrEqual(DATAGRAMS * MAX_OVERFLOW_SHARE);

      pair.setLossPercent(0);
      const ruleset = execFileSync('ip', ['netns', 'exec', pair.namespaceA, 'nft', 'list', 'ruleset'], { encoding: 'utf8', timeout: 10_000 });
      expect(ruleset).not.toContain('fluxbench_loss');
      const lossless = await measureDropShare(pair, { datagrams: DATAGRAMS, deadlineMs: DEADLINE_MS });
      expect(lossless.missing).toBeLessThanOrEqual(DATAGRAMS * MAX_OVERFLOW_SHARE);
      expect(lossless.duplicates).toBe(0);
      pair.close();
      pair = null;
    },
    2 * DEADLINE_MS + 10_000,
  );

  it.skipIf(skipReason)('refuses a loss share that is not a whole percentage 0..100, naming the value', () => {
    const opened = openNetnsPair();
    try {
      expect(opened.reason).toBeNull();
      expect(() => opened.pair.setLossPercent(2.5)).toThrow(RangeError);
      expect(() => opened.pair.setLossPercent(101)).toThrow('101');
    } finally {
      opened.pair?.close();
    }
  });

  it.skipIf(netnsReason)(
    'sets TCP congestion control per namespace (the host keeps its own) and keeps the default offload unless asked for wire packets',
    () => {
      const host = readFileSync('/proc/sys/net/ipv4/tcp_congestion_control', 'utf8').trim();
      const available = readFileSync('/proc/sys/net/ipv4/tcp_available_congestion_control', 'utf8').trim().split(/\s+/);
      const allowed = readFileSync('/proc/sys/net/ipv4/tcp_allowed_congestion_control', 'utf8').trim();
      const wire = openNetnsPair();
      const offload = openNetnsPair({ wirePackets: false, subnet: '10.205.0' });
      try {
        expect(wire.reason).toBeNull();
        expect(offload.reason).toBeNull();
        // Every algorithm the kernel offers, including those the host's allowed list lacks.
        for (const name of available) {
          wire.pair.setTcpCongestionControl(name);
          expect(wire.pair.tcpCongestionControl()).toEqual({ a: name, b: name });
          expect(offload.pair.tcpCongestionControl()).toEqual({ a: host, b: host });
        }
        expect(readFileSync('/proc/sys/net/ipv4/tcp_congestion_control', 'utf8').trim()).toBe(host);
        expect(() => wire.pair.setTcpCongestionControl('no_such_cc')).toThrow('no_such_cc is not offered');
        expect(() => wire.pair.setTcpCongestionControl('bbr; reboot')).toThrow(RangeError);
        const gsoMaxSegs = (pair) =>
          JSON.parse(execFileSync('ip', ['-n', pair.namespaceA, '-d', '-j', 'link', 'show', pair.vethA], { encoding: 'utf8', timeout: 10_000 }))[0]
            .gso_max_segs;
        expect(gsoMaxSegs(wire.pair)).toBe(1);
        expect(gsoMaxSegs(offload.pair)).toBeGreaterThan(1);
      } finally {
        wire.pair?.close();
        offload.pair?.close();
      }
      expect(readFileSync('/proc/sys/net/ipv4/tcp_allowed_congestion_control', 'utf8').trim()).toBe(allowed); // restored
    },
  );
});
