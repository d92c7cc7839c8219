/**
 * Messages beyond bytes on @flux/udp, on each backend: a publication with a `codec` offers
 * values, a `messages(streamId, { codec })` iterator yields them decoded in place, and a
 * message the codec cannot decode is a counted drop (`undecodable`) with its error on
 * onError, never an exception that would take the process down.
 */
import { describe, expect, expectTypeOf, it } from 'vitest';
import { type Codec, FluxHandlerError, FluxTypeError, jsonCodec, utf8Codec } from '@flux/ring';
import { capability } from '@flux/uring';
import type { Backend } from '../src/backend.js';
import { Publication } from '../src/publication.js';
import { Subscription } from '../src/subscription.js';
import { closedAfterEach, until } from './support.js';

const open = closedAfterEach();

interface Order {
  id: number;
  side: 'buy' | 'sell';
  symbol: string;
}

const backends: Backend[] = ['io_uring', 'dgram'];

describe.each(backends)('@flux/udp codecs, %s backend', (backend) => {
  if (backend === 'io_uring' && !capability().usable) {
    it.skip(`io_uring is not usable here: ${capability().reason}`, () => {});
    return;
  }

  async function subscription() {
    const sub = await Subscription.open({ port: 0, address: '127.0.0.1', backend });
    open.push(sub);
    return sub;
  }

  it('sends values through a codec and yields them decoded, in order, with their session and stream', async () => {
    const sub = await subscription();
    const orders = sub.messages(3, { codec: jsonCodec<Order>(), idleTimeoutMs: 10_000 });
    const pub = await Publication.open({ host: '127.0.0.1', port: sub.port, streamId: 3, sessionId: 9, backend, codec: jsonCodec<Order>() });
    open.push(pub);
    expectTypeOf(pub).toEqualTypeOf<Publication<Order>>();
    const sent: Order[] = Array.from({ length: 500 }, (_, i) => ({ id: i, side: i % 2 === 0 ? 'buy' : 'sell', symbol: `SYM-${i % 7}-é` }));
    for (const order of sent) expect(pub.offer(order)).toBeGreaterThanOrEqual(0);
    expect(await pub.flush()).toBe(true);
    const got: Order[] = [];
    for await (const { value, sessionId, streamId } of orders) {
      expectTypeOf(value).toEqualTypeOf<Order>();
      expect([sessionId, streamId]).toEqual([9, 3]);
      got.push(value);
      if (got.length === sent.length) break;
    }
    expect(got).toEqual(sent);
    expect(sub.counters.undecodable).toBe(0);
  });

  it('counts a message the codec cannot decode as undecodable, reports it, and yields the next', async () => {
    const sub = await subscription();
    const errors: Error[] = [];
    sub.onError((error) => errors.push(error));
    const values = sub.messages(5, { codec: jsonCodec<{ ok: number }>(), idleTimeoutMs: 10_000 });
    const raw = await Publication.open({ host: '127.0.0.1', port: sub.port, streamId: 5, backend });
    open.push(raw);
    for (const message of ['{"ok":1}', 'not json', new Uint8Array([0x7b, 0xff, 0x7d]), '{"ok":2}']) raw.offer(message);
    expect(await raw.flush()).toBe(true);
    const got: { ok: number }[] = [];
    for await (const { value } of values) {
      got.push(value);
      if (got.length === 2) break;
    }
    expect(got).toEqual([{ ok: 1 }, { ok: 2 }]);
    expect(sub.counters.snapshot()).toMatchObject({ messagesReceived: 4, undecodable: 2, dropped: 2 });
    expect(errors).toHaveLength(2);
    expect(errors[0]).toBeInstanceOf(FluxHandlerError);
    expect(errors[0].message).toMatch(/^codec.decode of a message on stream 5 \(session \d+\) threw: /);
    expect((errors[0] as FluxHandlerError).cause).toBeInstanceOf(SyntaxError);
    expect((errors[1] as FluxHandlerError).cause).toBeInstanceOf(TypeError); // not UTF-8: the strict decoder refuses it
  });

  it('only counts an undecodable message when nobody listens on onError (a peer cannot crash the process)', async () => {
    const sub = await subscription();
    const values = sub.messages(6, { codec: utf8Codec, idleTimeoutMs: 10_000 });
    const raw = await Publication.open({ host: '127.0.0.1', port: sub.port, streamId: 6, backend });
    open.push(raw);
    raw.offer(new Uint8Array([0xc3, 0x28])); // an invalid two-byte sequence
    raw.offer('après');
    expect(await raw.flush()).toBe(true);
    const { value } = (await values.next()) as IteratorYieldResult<{ value: string }>;
    expect(value.value).toBe('après');
    await until(() => sub.counters.undecodable === 1, 'the undecodable message to be counted');
    // A rethrown error would surface as an uncaught exception here, failing the run.
    await new Promise((resolve) => setImmediate(resolve));
  });

  it('gives the caller what encode throws, and names a codec that is not one', async () => {
    const sub = await subscription();
    const failing: Codec<number> = {
      encode: (n) => {
        if (n < 0) throw new RangeError(`negative: ${n}`);
        return String(n);
      },
      decode: (bytes) => Number(new TextDecoder().decode(bytes)),
    };
    const pub = await Publication.open({ host: '127.0.0.1', port: sub.port, streamId: 7, backend, codec: failing });
    open.push(pub);
    expect(() => pub.offer(-1)).toThrow('negative: -1');
    // @ts-expect-error: a publication with a codec takes its values, not bytes
    expectTypeOf(pub.offer).toBeCallableWith(new Uint8Array(1));
    await expect(Publication.open({ host: '127.0.0.1', port: sub.port, streamId: 7, backend, codec: JSON as never })).rejects.toThrow(FluxTypeError);
    await expect(Publication.open({ host: '127.0.0.1', port: sub.port, streamId: 7, backend, codec: JSON as never })).rejects.toThrow(
      /codec must be a codec \(an object with encode\(value\) and decode\(bytes\) functions\), got an object/,
    );
    expect(() => sub.messages(7, { codec: 'json' as never })).toThrow(/codec must be a codec/);
  });
});
