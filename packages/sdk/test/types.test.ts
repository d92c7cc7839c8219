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
});
