/**
 * Every public function, method and option of @flux/udp with bad values: each throws (or
 * rejects with) a FluxTypeError or FluxRangeError whose message names the argument, before
 * any socket is touched. Then fast-check: any value at all, passed where an argument goes,
 * gives a result or a FluxError, never another error.
 */
import fc from 'fast-check';
import { Socket } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { FluxRangeError, isFluxError, Ring } from '@flux/ring';
import { capability } from '@flux/uring';
import { checkBufferBytes, familyOf, MessageQueue, openSocket, Publication, Subscription } from '../src/index.js';

const BAD = {
  undefined: undefined,
  null: null,
  NaN: Number.NaN,
  '-1': -1,
  '1.5': 1.5,
  '2**53': 2 ** 53,
  Infinity: Number.POSITIVE_INFINITY,
  string: 'abc',
  empty: '',
  object: {},
  array: [1, 2, 3],
  uint16: new Uint16Array([258, 3]),
  arrayBuffer: new ArrayBuffer(4),
} as const;
type BadName = keyof typeof BAD;
const ALL = Object.keys(BAD) as BadName[];
const except = (...keep: BadName[]) => ALL.filter((name) => !keep.includes(name));
/** Bad for a number option: every value but undefined (its default). */
const NUMBER = except('undefined');
/** Bad for an options bag: a typed array or an ArrayBuffer is an object, so it fails on the first required option instead. */
const OPTIONS = except('undefined', 'object', 'uint16', 'arrayBuffer');
/** Bad for a timeout in ms that takes fractions and Infinity. */
const TIMEOUT = except('undefined', 'Infinity', '1.5', '2**53');

function checkError(thrown: unknown, name: string, label: string): void {
  expect(thrown, `${label}: nothing thrown`).toBeDefined();
  expect(isFluxError(thrown), `${label}: ${String(thrown)} is not a FluxError`).toBe(true);
  const e = thrown as Error & { code: string };
  expect(['ERR_FLUX_INVALID_TYPE', 'ERR_FLUX_OUT_OF_RANGE'], `${label}: ${e.code}`).toContain(e.code);
  expect(e instanceof TypeError || e instanceof RangeError, label).toBe(true);
  expect(e.message, label).toContain(name);
}

/** Runs `call` (sync or async) and checks it threw or rejected as above. */
async function expectArgumentError(call: () => unknown, name: string, label: string): Promise<void> {
  let thrown: unknown;
  try {
    const result = call();
    if (result instanceof Promise) await result;
  } catch (error) {
    thrown = error;
  }
  checkError(thrown, name, label);
}

const backends = capability().usable ? (['io_uring', 'dgram'] as const) : (['dgram'] as const);
let sub: Subscription;
let pub: Publication;

beforeAll(async () => {
  sub = await Subscription.open({ port: 0, address: '127.0.0.1', backend: 'dgram' });
  pub = await Publication.open({ host: '127.0.0.1', port: sub.port, streamId: 1, backend: 'dgram' });
});
afterAll(async () => {
  await pub.close();
  await sub.close();
});

const pubOptions = { host: '127.0.0.1', port: 9, streamId: 1 };
// [what, argument name, bad values, call with the value]
type Row = [string, string, readonly BadName[], (value: unknown) => unknown];

const publicationOpenRows = (backend: string): Row[] => [
  ['Publication.open', 'options', OPTIONS, (v) => Publication.open(v as never)],
  // A string is a host name: 'abc' is looked up, and fails as Node reports it (below).
  ['host', 'host', except('string'), (v) => Publication.open({ ...pubOptions, backend, host: v } as never)],
  ['port', 'port', ALL, (v) => Publication.open({ ...pubOptions, backend, port: v } as never)],
  ['streamId', 'streamId', ALL, (v) => Publication.open({ ...pubOptions, backend, streamId: v } as never)],
  ...(['sessionId', 'mtuBytes', 'maxMessageBytes', 'ringCapacity', 'maxDatagramsInFlight', 'receiveBufferBytes', 'sendBufferBytes'] as const).map(
    (option): Row => [option, option, NUMBER, (v) => Publication.open({ ...pubOptions, backend, [option]: v } as never)],
  ),
  ['producerMode', 'producerMode', NUMBER, (v) => Publication.open({ ...pubOptions, backend, producerMode: v } as never)],
  ['backend', 'backend', NUMBER, (v) => Publication.open({ ...pubOptions, backend: v } as never)],
  ['segmentOffload', 'segmentOffload', NUMBER, (v) => Publication.open({ ...pubOptions, backend, segmentOffload: v } as never)],
  ['family', 'family', NUMBER, (v) => Publication.open({ ...pubOptions, backend, family: v } as never)],
];

const subscriptionOpenRows = (backend: string): Row[] => [
  ['Subscription.open', 'options', OPTIONS, (v) => Subscription.open(v as never)],
  ['port', 'port', ALL, (v) => Subscription.open({ backend, port: v } as never)],
  ['address', 'address', except('undefined', 'string'), (v) => Subscription.open({ backend, port: 0, address: v } as never)],
  ...(['maxMessageBytes', 'maxSessions', 'maxDatagramBytes', 'sequenceWindowFrames', 'receiveBufferBytes', 'sendBufferBytes'] as const).map(
    (option): Row => [option, option, NUMBER, (v) => Subscription.open({ backend, port: 0, [option]: v } as never)],
  ),
  [
    'sessionIdleTimeoutMs',
    'sessionIdleTimeoutMs',
    except('undefined', '1.5'),
    (v) => Subscription.open({ backend, port: 0, sessionIdleTimeoutMs: v } as never),
  ],
  ['backend', 'backend', NUMBER, (v) => Subscription.open({ port: 0, backend: v } as never)],
  ['family', 'family', NUMBER, (v) => Subscription.open({ backend, port: 0, family: v } as never)],
];

const methodRows = (): Row[] => [
  ['offer', 'message', except('string', 'empty'), (v) => pub.offer(v as Uint8Array)],
  ['flush', 'timeoutMs', TIMEOUT.filter((name) => name !== 'object'), (v) => pub.flush(v as number)],
  ['close', 'flushTimeoutMs', TIMEOUT.filter((name) => name !== 'object'), (v) => pub.close(v as number)],
  ['Publication.onError', 'listener', ALL, (v) => pub.onError(v as never)],
  ['onMessage streamId', 'streamId', ALL, (v) => sub.onMessage(v as number, () => {})],
  ['onMessage handler', 'handler', ALL, (v) => sub.onMessage(1, v as never)],
  ['Subscription.onError', 'listener', ALL, (v) => sub.onError(v as never)],
  ['deliverToRing streamId', 'streamId', ALL, (v) => sub.deliverToRing(v as number, Ring.create({ capacity: 8, maxMessageBytes: 8 }))],
  ['deliverToRing ring', 'ring', ALL, (v) => sub.deliverToRing(1, v as Ring)],
  ['messages streamId', 'streamId', ALL, (v) => sub.messages(v as number)],
  ['messages options', 'options', OPTIONS, (v) => sub.messages(1, v as never)],
  ['messages maxQueuedMessages', 'maxQueuedMessages', NUMBER, (v) => sub.messages(1, { maxQueuedMessages: v as number })],
  ['messages idleTimeoutMs', 'idleTimeoutMs', except('undefined', 'Infinity', '1.5'), (v) => sub.messages(1, { idleTimeoutMs: v as number })],
  ['messages signal', 'signal', NUMBER, (v) => sub.messages(1, { signal: v as AbortSignal })],
  ['MessageQueue maxQueuedMessages', 'maxQueuedMessages', NUMBER, (v) => new MessageQueue({ maxQueuedMessages: v as number }, () => {})],
  ['checkBufferBytes', 'receiveBufferBytes', NUMBER, (v) => checkBufferBytes('receiveBufferBytes', v as number)],
  ['familyOf', 'family', NUMBER, (v) => familyOf('127.0.0.1', v as 'IPv4')],
  ['openSocket address', 'address', except('string'), (v) => openSocket(v as string, 0)],
  ['openSocket port', 'port', ALL, (v) => openSocket('127.0.0.1', v as number)],
];

describe('bad arguments (sweep): a FluxError naming the argument', () => {
  it.each(backends)('Publication.open options, %s backend', async (backend) => {
    for (const [what, name, bad, call] of publicationOpenRows(backend)) {
      for (const b of bad) await expectArgumentError(() => call(BAD[b]), name, `${what}(${b})`);
    }
  });

  it.each(backends)('Subscription.open options, %s backend', async (backend) => {
    for (const [what, name, bad, call] of subscriptionOpenRows(backend)) {
      for (const b of bad) await expectArgumentError(() => call(BAD[b]), name, `${what}(${b})`);
    }
  });

  it('methods of Publication and Subscription, and the helpers', async () => {
    for (const [what, name, bad, call] of methodRows()) {
      for (const b of bad) await expectArgumentError(() => call(BAD[b]), name, `${what}(${b})`);
    }
  });

  it('offer takes a Buffer, any Uint8Array view and a string (as UTF-8); a string too long throws without writing', async () => {
    const got: number[][] = [];
    sub.onMessage(1, (bytes, offset, length) => got.push([...bytes.subarray(offset, offset + length)]));
    const before = pub.ring.cursor();
    const max = pub.ring.maxMessageBytes;
    const long = 'é'.repeat(Math.floor(max / 2) + 1);
    expect(() => pub.offer(long)).toThrow(new RegExp(`message is ${Buffer.byteLength(long)} bytes in UTF-8, longer than maxMessageBytes \\(${max}\\)`));
    expect(() => pub.offer(`${'a'.repeat(max - 1)}€`)).toThrow(FluxRangeError); // the last code point would not fit whole
    expect(() => pub.offer(new Uint16Array(2) as never)).toThrow(/message must be a Uint8Array/);
    expect(pub.ring.cursor()).toBe(before); // nothing was published
    expect(pub.offer(Buffer.from([1, 2]))).toBeGreaterThanOrEqual(0);
    expect(pub.offer(new Uint8Array([0, 3, 4, 5]).subarray(1, 3))).toBeGreaterThanOrEqual(0);
    expect(pub.offer('hé')).toBeGreaterThanOrEqual(0);
    expect(pub.offer('a'.repeat(max))).toBeGreaterThanOrEqual(0); // exactly fits
    expect(await pub.flush()).toBe(true);
    const deadline = Date.now() + 10_000;
    while (got.length < 4 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 1));
    expect(got.slice(0, 3)).toEqual([
      [1, 2],
      [3, 4],
      [0x68, 0xc3, 0xa9],
    ]);
    expect(got[3]).toEqual([...Buffer.from('a'.repeat(max))]);
  });

  it('buffer sizes of 2^31 and more are refused up front (node:dgram would throw them uncaught inside bind)', async () => {
    for (const bytes of [2 ** 31, 2 ** 32, 2 ** 30 + 1]) {
      await expect(Subscription.open({ port: 0, backend: 'dgram', receiveBufferBytes: bytes })).rejects.toThrow(
        /receiveBufferBytes must be an integer from 1 to 1073741824/,
      );
      await expect(Publication.open({ ...pubOptions, backend: 'dgram', sendBufferBytes: bytes })).rejects.toThrow(
        /sendBufferBytes must be an integer from 1 to 1073741824/,
      );
    }
    // The largest one taken opens (the kernel caps it at net.core.rmem_max / wmem_max).
    const big = await Subscription.open({ port: 0, backend: 'dgram', receiveBufferBytes: 2 ** 30, sendBufferBytes: 2 ** 30 });
    await big.close();
  });

  it("a host name that does not resolve rejects open() with Node's lookup error, on either backend", async () => {
    for (const backend of backends) {
      const error = await Publication.open({ ...pubOptions, backend, host: 'no-such-host.invalid' }).catch((e: unknown) => e);
      expect(error).toMatchObject({ syscall: 'getaddrinfo' });
      expect(['ENOTFOUND', 'EAI_AGAIN']).toContain((error as { code: string }).code);
      const bound = await Subscription.open({ port: 0, backend, address: 'no-such-host.invalid' }).catch((e: unknown) => e);
      expect(bound).toMatchObject({ syscall: 'getaddrinfo' });
    }
  });

  it("an error Node raises while setting a socket option rejects open() (it is not thrown inside Node's bind)", async () => {
    const refused = Object.assign(new Error('setsockopt refused'), { code: 'ERR_SOCKET_BUFFER_SIZE' });
    const spy = vi.spyOn(Socket.prototype, 'setRecvBufferSize').mockImplementation(() => {
      throw refused;
    });
    try {
      await expect(Subscription.open({ port: 0, backend: 'dgram', receiveBufferBytes: 4096 })).rejects.toBe(refused);
      await expect(openSocket('127.0.0.1', 0, { receiveBufferBytes: 4096 })).rejects.toBe(refused);
    } finally {
      spy.mockRestore();
    }
  });

  it('a system error while binding rejects open() as Node reports it (code, errno, syscall)', async () => {
    for (const backend of backends) {
      await expect(Subscription.open({ port: sub.port, address: '127.0.0.1', backend })).rejects.toMatchObject({ code: 'EADDRINUSE', syscall: 'bind' });
    }
  });
});

describe('any value where an argument goes: a result or a FluxError (fast-check)', () => {
  const onlyFluxErrors = async (call: () => unknown): Promise<void> => {
    try {
      const result = call();
      if (result instanceof Promise) {
        const value = await result;
        if (value instanceof Publication || value instanceof Subscription) await value.close();
      }
    } catch (error) {
      expect(isFluxError(error), `${String(error)} is not a FluxError`).toBe(true);
    }
  };
  const anything = fc.anything({ withBigInt: true, withBoxedValues: true, withNullPrototype: true, withTypedArray: true, withSparseArray: true });

  it('synchronous methods', async () => {
    await fc.assert(
      fc.asyncProperty(anything, anything, async (a, b) => {
        await onlyFluxErrors(() => pub.offer(a as Uint8Array));
        await onlyFluxErrors(() => sub.onMessage(a as number, b as never));
        await onlyFluxErrors(() => sub.onMessage(1, a as never));
        await onlyFluxErrors(() => sub.onError(a as never)());
        await onlyFluxErrors(() => pub.onError(a as never)());
        await onlyFluxErrors(() => sub.messages(a as number, b as never).return!());
        await onlyFluxErrors(() => sub.messages(1, a as never).return!());
        await onlyFluxErrors(() => sub.deliverToRing(1, a as Ring));
        await onlyFluxErrors(() => checkBufferBytes('receiveBufferBytes', a as number));
        await onlyFluxErrors(() => familyOf('::1', a as 'IPv4'));
      }),
      { numRuns: 300, seed: 20_260_611 },
    );
  });

  it('open() and flush()', async () => {
    await fc.assert(
      fc.asyncProperty(anything, async (a) => {
        await onlyFluxErrors(() => Publication.open(a as never));
        await onlyFluxErrors(() => Subscription.open(a as never));
        await onlyFluxErrors(() => Publication.open({ ...pubOptions, backend: 'dgram', mtuBytes: a } as never));
        await onlyFluxErrors(() => Subscription.open({ port: 0, backend: 'dgram', address: '127.0.0.1', sessionIdleTimeoutMs: a } as never));
        await onlyFluxErrors(() => pub.flush(typeof a === 'number' ? Math.min(a, 100) : (a as number)));
      }),
      { numRuns: 100, seed: 20_260_612 },
    );
  });
});
