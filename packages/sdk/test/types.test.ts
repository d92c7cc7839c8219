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

describe('the facade’s types', () => {
  it('re-exports each package’s classes and functions unchanged', () => {
    expectTypeOf(sdk.Ring).toEqualTypeOf(ring.Ring);
    expectTypeOf(sdk.AsyncWaitStrategy).toEqualTypeOf(ring.AsyncWaitStrategy);
    expectTypeOf(sdk.Publication).toEqualTypeOf(udp.Publication);
    expectTypeOf(sdk.Subscription).toEqualTypeOf(udp.Subscription);
    expectTypeOf(sdk.ReliablePublication).toEqualTypeOf(reliable.ReliablePublication);
    expectTypeOf(sdk.ReliableSubscription).toEqualTypeOf(reliable.ReliableSubscription);
    expectTypeOf(sdk.UringUdpSocket).toEqualTypeOf(uring.UringUdpSocket);
    expectTypeOf(sdk.capability).toEqualTypeOf(uring.capability);
  });

  it('types what it adds as documented', () => {
    expectTypeOf(sdk.messages).returns.toEqualTypeOf<AsyncGenerator<Uint8Array, void, undefined>>();
    expectTypeOf(sdk.readMessages).returns.toEqualTypeOf<Promise<number>>();
    expectTypeOf(sdk.workerRings<{ factor: number }>).returns.toEqualTypeOf<{ rings: Record<string, ring.Ring>; data: { factor: number } }>();
    expectTypeOf(sdk.readCounters).returns.toEqualTypeOf<Record<string, number>>();
    expectTypeOf(sdk.info).returns.toHaveProperty('udpBackend').toEqualTypeOf<{ backend: 'io_uring' | 'dgram'; reason: string }>();
    expectTypeOf<sdk.ReadOptions>().toEqualTypeOf<{ signal?: AbortSignal; idleTimeoutMs?: number }>();
  });

  it('types for await over subscriptions as the README shows', () => {
    type Received = { bytes: Uint8Array; sessionId: number; streamId: number };
    expectTypeOf<sdk.ReceivedMessage>().toEqualTypeOf<Received>();
    expectTypeOf<sdk.Subscription['messages']>().returns.toEqualTypeOf<AsyncIterableIterator<Received>>();
    expectTypeOf<sdk.ReliableSubscription['messages']>().returns.toEqualTypeOf<AsyncIterableIterator<Received>>();
    expectTypeOf<sdk.MessageIteratorOptions>().toEqualTypeOf<{ maxQueuedMessages?: number; signal?: AbortSignal; idleTimeoutMs?: number }>();
  });

  it('types the error hierarchy as the README shows', () => {
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
  });
});
