/** diagnostics_channel: a reliable subscription's session events on 'flux:reliable:session', with its source. */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { DIAGNOSTICS_CHANNELS } from '@flux/ring';
import { describe, expect, it } from 'vitest';
import { ReliablePublication, ReliableSubscription } from '../src/index.js';

describe('diagnostics channels', () => {
  it("publish a session's begin and end on flux:reliable:session, with no onEvent listener", async () => {
    const seen: { source: string; event: { type: string } }[] = [];
    const listener = (message: unknown) => seen.push(message as { source: string; event: { type: string } });
    subscribe(DIAGNOSTICS_CHANNELS.reliableSession, listener);
    try {
      const subscription = await ReliableSubscription.open({ port: 0, address: '127.0.0.1', backend: 'dgram' });
      subscription.onMessage(1, () => {});
      const publication = await ReliablePublication.open({ host: '127.0.0.1', port: subscription.port, streamId: 1, backend: 'dgram' });
      expect(await publication.connected(10_000)).toBe(true);
      publication.offer('x');
      await publication.close(10_000);
      const deadline = Date.now() + 10_000;
      while (!seen.some((message) => message.event.type === 'end') && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 1));
      await subscription.close();
      expect(seen.map((message) => message.event.type).filter((type) => type === 'begin' || type === 'end')).toEqual(['begin', 'end']);
      expect(new Set(seen.map((message) => message.source))).toEqual(new Set([`reliable subscription on port ${subscription.port}`]));
    } finally {
      unsubscribe(DIAGNOSTICS_CHANNELS.reliableSession, listener);
    }
  });
});
