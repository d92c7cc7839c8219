/**
 * The facade's public types are the packages' own (checked by `tsc --noEmit`, which the
 * test script runs first; expectTypeOf is a no-op at run time).
 */
import { describe, expectTypeOf, it } from 'vitest';
import * as reliable from '@flux/reliable';
import * as ring from '@flux/ring';
import * as udp from '@flux/udp';
import * as uring from '@flux/uring';
import * as sdk from '../src/index.js';
import * as sdkUring from '../src/subpaths/uring.js';

describe('the facade’s types', () => {
  it('re-exports each package’s classes and functions unchanged', () => {
    expectTypeOf(sdk.Ring).toEqualTypeOf(ring.Ring);
    expectTypeOf(sdk.AsyncWaitStrategy).toEqualTypeOf(ring.AsyncWaitStrategy);
    expectTypeOf(sdk.Publication).toEqualTypeOf(udp.Publication);
    expectTypeOf(sdk.Subscription).toEqualTypeOf(udp.Subscription);
    expectTypeOf(sdk.ReliablePublication).toEqualTypeOf(reliable.ReliablePublication);
    expectTypeOf(sdk.ReliableSubscription).toEqualTypeOf(reliable.ReliableSubscription);
    expectTypeOf(sdkUring.UringUdpSocket).toEqualTypeOf(uring.UringUdpSocket); // below the facade: @flux/sdk/uring
    expectTypeOf(sdk.capability).toEqualTypeOf(uring.capability);
  });

  it('types what it adds as documented', () => {
    // Overloaded functions are typed through calls in functions never called (expectTypeOf
    // on the function itself sees only its last overload).
    const consumer = {} as ring.Consumer;
    expectTypeOf(() => sdk.messages(consumer)).returns.toEqualTypeOf<AsyncGenerator<Uint8Array, void, undefined>>();
    expectTypeOf(sdk.readMessages).returns.toEqualTypeOf<Promise<number>>();
    expectTypeOf(() => sdk.workerRings<{ factor: number }>()).returns.toEqualTypeOf<{ rings: Record<string, ring.Ring>; data: { factor: number } }>();
    expectTypeOf(sdk.readCounters).returns.toEqualTypeOf<Record<string, number>>();
    expectTypeOf(sdk.info).returns.toHaveProperty('udpBackend').toEqualTypeOf<{ backend: 'io_uring' | 'dgram'; reason: string }>();
    expectTypeOf<sdk.ReadOptions>().toEqualTypeOf<{ signal?: AbortSignal; idleTimeoutMs?: number }>();
  });

  it('types for await over subscriptions as docs/udp.md shows', () => {
    type Received = { bytes: Uint8Array; sessionId: number; streamId: number };
    expectTypeOf<sdk.ReceivedMessage>().toEqualTypeOf<Received>();
    expectTypeOf((s: sdk.Subscription) => s.messages(1)).returns.toEqualTypeOf<AsyncIterableIterator<Received>>();
    expectTypeOf((s: sdk.ReliableSubscription) => s.messages(1, { maxQueuedMessages: 8 })).returns.toEqualTypeOf<AsyncIterableIterator<Received>>();
    expectTypeOf<sdk.MessageIteratorOptions>().toEqualTypeOf<{ maxQueuedMessages?: number; signal?: AbortSignal; idleTimeoutMs?: number }>();
  });

  it('types the error hierarchy as docs/sdk.md shows', () => {
    expectTypeOf<sdk.FluxError['code']>().toEqualTypeOf<sdk.FluxErrorCode>();
    expectTypeOf<sdk.FluxRangeError>().toExtend<RangeError>();
    expectTypeOf<sdk.FluxTypeError>().toExtend<TypeError>();
    expectTypeOf<sdk.FluxRangeError['code']>().toEqualTypeOf<'ERR_FLUX_OUT_OF_RANGE'>();
    expectTypeOf<sdk.UringUnavailableError>().toExtend<sdk.FluxError>();
    expectTypeOf<sdk.UringUnavailableError['reason']>().toEqualTypeOf<string>();
    expectTypeOf<sdk.WorkerExitError['exitCode']>().toEqualTypeOf<number>();
    expectTypeOf<sdk.ConsumerRemovedError['consumerId']>().toEqualTypeOf<number>();
    expectTypeOf(sdk.isFluxError).guards.toEqualTypeOf<sdk.FluxErrorLike>();
    expectTypeOf(sdk.UringUnavailableError).toEqualTypeOf(uring.UringUnavailableError);
  });

  it('types counter snapshots per class (a misspelt counter does not compile) and the Node idioms', () => {
    expectTypeOf<ReturnType<sdk.PublicationCounters['snapshot']>>().toHaveProperty('datagramsSent').toEqualTypeOf<number>();
    expectTypeOf<ReturnType<sdk.SubscriptionCounters['snapshot']>>().toHaveProperty('dropped').toEqualTypeOf<number>();
    expectTypeOf<ReturnType<sdk.PublicationCounters['snapshot']>>().not.toHaveProperty('datagramSent');
    expectTypeOf<ReturnType<sdk.PublicationCounters['snapshot']>>().not.toHaveProperty('snapshot'); // numbers only
    const snapshot = new sdk.PublicationCounters().snapshot();
    // @ts-expect-error: no such counter
    snapshot.datagramSent;
    expectTypeOf<sdk.Publication['unref']>().returns.toEqualTypeOf<sdk.Publication>();
    expectTypeOf<sdk.ReliableSubscription>().toHaveProperty(Symbol.asyncDispose);
    expectTypeOf<sdk.Publication['offer']>().parameter(0).toEqualTypeOf<Uint8Array | string>();
    expectTypeOf<sdk.FluxAbortError['code']>().toEqualTypeOf<sdk.FluxErrorCode>();
    expectTypeOf<Parameters<sdk.ReliablePublication['flush']>[0]>().toEqualTypeOf<number | sdk.WaitOptions | undefined>();
    // Hot endpoints' counters, typed as the event-loop endpoints' snapshots (a typo does not compile).
    expectTypeOf<ReturnType<sdk.HotReliablePublication['counters']>>().toEqualTypeOf<sdk.CounterSnapshot<sdk.SenderCounters>>();
    expectTypeOf<ReturnType<sdk.HotReliableSubscription['counters']>>().toEqualTypeOf<sdk.ReliableSubscriptionSnapshot>();
    expectTypeOf<sdk.ReliableSubscriptionSnapshot>().toHaveProperty('message.messagesReceived').toEqualTypeOf<number>();
    expectTypeOf<sdk.ReliableSubscriptionSnapshot>().toHaveProperty('naksSent').toEqualTypeOf<number>();
    const hotCounters = (publication: sdk.HotReliablePublication) => {
      // @ts-expect-error: no such counter
      publication.counters().messageSent;
    };
    expectTypeOf(hotCounters).toBeFunction();
  });

  it('types messages beyond bytes by their codec: publications, subscriptions, rings, worker rings', () => {
    interface Order {
      id: number;
      side: 'buy' | 'sell';
    }
    const orders = sdk.jsonCodec<Order>();
    expectTypeOf(orders).toEqualTypeOf<sdk.Codec<Order>>();
    expectTypeOf(sdk.utf8Codec).toEqualTypeOf<sdk.Codec<string>>();
    const target = { host: '127.0.0.1', port: 9, streamId: 1 };
    // Never called: the calls type-check only.
    const opens = () => ({
      plain: sdk.Publication.open(target),
      udp: sdk.Publication.open({ ...target, codec: orders }),
      reliable: sdk.ReliablePublication.open({ ...target, codec: orders }),
      hot: sdk.HotReliablePublication.open({ ...target, codec: sdk.utf8Codec }),
    });
    expectTypeOf(opens).returns.toEqualTypeOf<{
      plain: Promise<sdk.Publication<Uint8Array | string>>;
      udp: Promise<sdk.Publication<Order>>;
      reliable: Promise<sdk.ReliablePublication<Order>>;
      hot: Promise<sdk.HotReliablePublication<string>>;
    }>();
    expectTypeOf<sdk.Publication<Order>['offer']>().parameter(0).toEqualTypeOf<Order>();
    expectTypeOf<sdk.ReliablePublication<Order>['offer']>().parameter(0).toEqualTypeOf<Order>();
    const offerWrong = (publication: sdk.Publication<Order>) => {
      // @ts-expect-error: a publication with a codec takes the codec's values, not bytes
      publication.offer(new Uint8Array(1));
      // @ts-expect-error: nor a value of another shape
      publication.offer({ id: 1, side: 'hold' });
    };
    expectTypeOf(offerWrong).toBeFunction();
    expectTypeOf((s: sdk.Subscription) => s.messages(1, { codec: orders })).returns.toEqualTypeOf<AsyncIterableIterator<sdk.DecodedMessage<Order>>>();
    expectTypeOf((s: sdk.ReliableSubscription) => s.messages(1, { codec: sdk.utf8Codec })).returns.toEqualTypeOf<
      AsyncIterableIterator<sdk.DecodedMessage<string>>
    >();
    expectTypeOf<sdk.DecodedMessage<Order>>().toEqualTypeOf<{ value: Order; sessionId: number; streamId: number }>();
    const consumer = {} as ring.Consumer;
    expectTypeOf(() => sdk.messages(consumer, { codec: orders })).returns.toEqualTypeOf<AsyncGenerator<Order, void, undefined>>();
    expectTypeOf<ring.Producer['offerValue']>().toBeFunction();
    const offerValueWrong = (producer: ring.Producer) => {
      producer.offerValue({ id: 1, side: 'buy' }, orders);
      // @ts-expect-error: the value must be the codec's type
      producer.offerValue('text', orders);
    };
    expectTypeOf(offerValueWrong).toBeFunction();
    const named = () => sdk.workerRings(['input', 'output']);
    expectTypeOf(named).returns.toEqualTypeOf<{ rings: Record<'input' | 'output', ring.Ring>; data: unknown }>();
    const withData = () => sdk.workerRings<'input', { factor: number }>(['input']);
    expectTypeOf(withData).returns.toEqualTypeOf<{ rings: Record<'input', ring.Ring>; data: { factor: number } }>();
    const unnamed = () => {
      const { rings } = sdk.workerRings(['input']);
      // @ts-expect-error: a ring the worker did not name
      rings.output;
    };
    expectTypeOf(unnamed).toBeFunction();
  });
});
