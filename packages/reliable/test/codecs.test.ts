/**
 * Messages beyond bytes on @flux/reliable, on each backend: a publication with a `codec`
 * offers values, a `messages(streamId, { codec })` iterator yields them decoded in place, and
 * a delivered message the codec cannot decode is counted (`undecodable`) and reported, the
 * stream going on.
 */
import { describe, expect, expectTypeOf, it } from 'vitest';
import { FluxHandlerError, jsonCodec, utf8Codec } from '@flux/ring';
import { capability } from '@flux/uring';
import { ReliablePublication, ReliableSubscription } from '../src/index.js';

const backends = capability().usable ? (['io_uring', 'dgram'] as const) : (['dgram'] as const);

interface Tick {
  seq: number;
  price: number;
}

describe.each(backends)('@flux/reliable codecs, %s backend', (backend) => {
  it('sends values through a codec and yields each once, in order, decoded', async () => {
    await using subscription = await ReliableSubscription.open({ port: 0, address: '127.0.0.1', backend });
    const ticks = subscription.messages(2, { codec: jsonCodec<Tick>(), idleTimeoutMs: 10_000 });
    await using publication = await ReliablePublication.open({ host: '127.0.0.1', port: subscription.port, streamId: 2, backend, codec: jsonCodec<Tick>() });
    expectTypeOf(publication).toEqualTypeOf<ReliablePublication<Tick>>();
    expect(await publication.connected(10_000)).toBe(true);
    const sent = Array.from({ length: 2_000 }, (_, seq) => ({ seq, price: 100 + seq / 8 }));
    const sending = (async () => {
      for (const tick of sent) while (publication.offer(tick) < 0) await new Promise((resolve) => setImmediate(resolve));
      return publication.flush(10_000);
    })();
    const got: Tick[] = [];
    for await (const { value } of ticks) {
      got.push(value);
      if (got.length === sent.length) break;
    }
    expect(await sending).toBe(true);
    expect(got).toEqual(sent);
    expect(subscription.counters.undecodable).toBe(0);
  });

  it('counts a delivered message the codec cannot decode as undecodable, reports it, and yields the next', async () => {
    await using subscription = await ReliableSubscription.open({ port: 0, address: '127.0.0.1', backend });
    const errors: Error[] = [];
    subscription.onError((error) => errors.push(error));
    const texts = subscription.messages(4, { codec: utf8Codec, idleTimeoutMs: 10_000 });
    await using raw = await ReliablePublication.open({ host: '127.0.0.1', port: subscription.port, streamId: 4, backend });
    expect(await raw.connected(10_000)).toBe(true);
    raw.offer('first');
    raw.offer(new Uint8Array([0xe2, 0x82])); // a three-byte sequence cut short
    raw.offer('third');
    expect(await raw.flush(10_000)).toBe(true);
    const got: string[] = [];
    for await (const { value } of texts) {
      got.push(value);
      if (got.length === 2) break;
    }
    expect(got).toEqual(['first', 'third']);
    expect(subscription.counters.undecodable).toBe(1);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(FluxHandlerError);
    expect(errors[0].message).toMatch(/^codec.decode of a message on stream 4 \(session \d+\) threw: /);
  });
});
