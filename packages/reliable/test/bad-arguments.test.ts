/**
 * Every public function and option of @flux/reliable with bad values: each throws (or
 * rejects with) a FluxTypeError or FluxRangeError whose message names the argument, never a
 * raw Node error, never a silent acceptance. Then fast-check feeds arbitrary values to each.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FluxRangeError, FluxTypeError, isFluxError } from '@flux/ring';
import { ChaosLink, ChaosRelay } from '../src/chaos/index.js';
import { ReliablePublication, type ReliablePublicationOptions, ReliableSubscription, type ReliableSubscriptionOptions } from '../src/index.js';

const HOST = '127.0.0.1';
/** A port nothing listens on: a publication opened with it only sends SETUPs, which go nowhere. */
const QUIET_PORT = 9;

async function expectFluxArgumentError(attempt: () => unknown, name: string): Promise<void> {
  let caught: unknown;
  try {
    await attempt();
  } catch (error) {
    caught = error;
  }
  expect(caught, `no error for ${name}`).toBeDefined();
  expect(isFluxError(caught), `not a FluxError for ${name}: ${String(caught)}`).toBe(true);
  expect(caught instanceof FluxTypeError || caught instanceof FluxRangeError).toBe(true);
  expect((caught as Error).message).toContain(name);
}

const BAD_NUMBERS = [undefined, null, Number.NaN, -1, 1.5, 2 ** 53, Number.POSITIVE_INFINITY, '5', {}, [], () => 1];

/** Option name -> bad values (undefined is left out where the option is optional). */
const publicationOptions: [keyof ReliablePublicationOptions, unknown[]][] = [
  ['host', [undefined, null, '', 5, {}, []]],
  ['port', [undefined, null, 0, 65536, 1.5, '80', Number.NaN]],
  ['streamId', [undefined, null, -1, 2 ** 32, 0.5, '1']],
  ['sessionId', [null, -1, 2 ** 32, 1.5, '1']],
  ['mtuBytes', [null, 100, 70_000, 1.5, '1500']],
  ['maxMessageBytes', [null, -1, 2 ** 31, 1.5]],
  ['ringCapacity', [null, 1, 3.5, 2 ** 31, 'x']],
  ['producerMode', [null, 'many', 1]],
  ['retransmitBufferDatagrams', [null, 1, 2 ** 21, 1.5]],
  ['retransmitPolicy', [null, 'drop', 0]],
  ['fecGroupDatagrams', [null, -1, 33, 1.5]],
  ['maxRetransmitBytesPerSecond', [null, 0, -5, Number.NaN, Number.POSITIVE_INFINITY, '1']],
  ['setupIntervalMs', [null, 0, -1, Number.NaN, Number.POSITIVE_INFINITY, '1']],
  ['heartbeatMinMs', [null, 0, -1, Number.NaN, '1']],
  ['heartbeatMaxMs', [null, 0, 0.5, Number.NaN, '1']], // 0.5 < heartbeatMinMs' default of 1
  ['livenessTimeoutMs', [null, 0, Number.NaN, 1e12, '1']],
  ['family', [null, 'IPv5', 4]],
  ['receiveBufferBytes', [null, 0, 2 ** 31, 1.5, '1']],
  ['sendBufferBytes', [null, 0, 2 ** 31, 1.5, '1']],
  ['backend', [null, 'uring', 1]],
  ['segmentOffload', [null, 1, 'yes']],
  ['congestionControl', [null, 'reno', 1]],
  ['congestionLossThreshold', [null, -0.1, 0.6, Number.NaN, '0.02']],
];

const subscriptionOptions: [keyof ReliableSubscriptionOptions, unknown[]][] = [
  ['port', [undefined, null, -1, 65536, 1.5, '0']],
  ['address', [null, '', 12345, {}]],
  ['maxMessageBytes', [null, -1, 2 ** 31, 1.5]],
  ['maxSessions', [null, 0, 70_000, 1.5]],
  ['windowBytes', [null, 100, 2 ** 31, 1.5]],
  ['windowDatagrams', [null, 0, 2 ** 21, 1.5]],
  ['maxDatagramBytes', [null, 8, 70_000, 1.5]],
  ['onGap', [null, 'ignore', 1]],
  ['nakDelayMs', [null, -1, Number.NaN, '1']],
  ['nakRetryMs', [null, 0, Number.NaN, '1']],
  ['maxNakRounds', [null, 0, 1.5, '1']],
  ['statusIntervalMs', [null, 0, Number.NaN, '1']],
  ['livenessTimeoutMs', [null, 0, Number.NaN, '1']],
  ['family', [null, 'IPv5']],
  ['receiveBufferBytes', [null, 0, 2 ** 31]],
  ['sendBufferBytes', [null, 0, 2 ** 31]],
  ['backend', [null, 'uring', 1]],
];

const validPublication: ReliablePublicationOptions = { host: HOST, port: QUIET_PORT, streamId: 1 };

describe('ReliablePublication.open', () => {
  it('rejects a missing or non-object options bag', async () => {
    for (const options of [undefined, null, 5, 'x', []]) await expectFluxArgumentError(() => ReliablePublication.open(options as never), 'options');
  });
  for (const [name, values] of publicationOptions) {
    it(`rejects bad ${name}`, async () => {
      for (const value of values) {
        await expectFluxArgumentError(() => ReliablePublication.open({ ...validPublication, [name]: value } as never), name);
      }
    });
  }
});

describe('ReliableSubscription.open', () => {
  it('rejects a missing or non-object options bag', async () => {
    for (const options of [undefined, null, 5, 'x', []]) await expectFluxArgumentError(() => ReliableSubscription.open(options as never), 'options');
  });
  for (const [name, values] of subscriptionOptions) {
    it(`rejects bad ${name}`, async () => {
      for (const value of values) {
        await expectFluxArgumentError(() => ReliableSubscription.open({ port: 0, address: HOST, [name]: value } as never), name);
      }
    });
  }
});

describe('the chaos tools (@flux/reliable/chaos)', () => {
  it('ChaosRelay.open rejects bad targets, seeds, addresses and buffer sizes before opening a socket', async () => {
    const target = { host: HOST, port: QUIET_PORT };
    const cases: [Record<string, unknown>, string][] = [
      [{ target: null, forward: {}, seed: 1 }, 'target'],
      [{ target: { host: '', port: 9 }, forward: {}, seed: 1 }, 'target.host'],
      [{ target: { host: 5, port: 9 }, forward: {}, seed: 1 }, 'target.host'],
      [{ target: { host: HOST, port: 0 }, forward: {}, seed: 1 }, 'target.port'],
      [{ target, forward: {}, seed: undefined }, 'seed'],
      [{ target, forward: {}, seed: 1.5 }, 'seed'],
      [{ target, forward: {}, seed: 1, address: 12345 }, 'address'],
      [{ target, forward: {}, seed: 1, receiveBufferBytes: 2 ** 31 }, 'receiveBufferBytes'],
      [{ target, forward: { lossPercent: 101 }, seed: 1 }, 'lossPercent'],
    ];
    for (const [options, name] of cases) await expectFluxArgumentError(() => ChaosRelay.open(options as never), name);
  });

  it('ChaosLink throws only FluxErrors for arbitrary options and pushes (fast-check)', () => {
    fc.assert(
      fc.property(fc.anything(), fc.anything(), fc.anything(), (options, bytes, length) => {
        for (const attempt of [() => new ChaosLink(options as never), () => new ChaosLink({ seed: 1 }).push(bytes as never, 0, length as never, 0)]) {
          try {
            attempt();
          } catch (error) {
            if (!isFluxError(error)) throw new Error(`a non-Flux error: ${String(error)}`);
          }
        }
      }),
      { numRuns: 300, seed: 18 },
    );
  });
});

describe('methods', () => {
  let publication: ReliablePublication;
  let subscription: ReliableSubscription;
  beforeAll(async () => {
    subscription = await ReliableSubscription.open({ port: 0, address: HOST });
    publication = await ReliablePublication.open(validPublication);
  });
  afterAll(async () => {
    await publication.close(0);
    await subscription.close();
  });

  it('offer takes Uint8Arrays (Buffers included) and strings (as UTF-8), nothing else', () => {
    for (const message of [new Uint16Array([258, 3]), {}, [1, 2, 3], new ArrayBuffer(4), null, undefined, 5, new DataView(new ArrayBuffer(2))]) {
      expect(() => publication.offer(message as never)).toThrow(FluxTypeError);
      expect(() => publication.offer(message as never)).toThrow(/message/);
    }
    expect(publication.offer(Buffer.from('ok'))).toBeGreaterThanOrEqual(0);
    expect(publication.offer(new Uint8Array(0))).toBeGreaterThanOrEqual(0);
    expect(publication.offer('abc')).toBeGreaterThanOrEqual(0);
  });

  it('flush, connected and close take a timeout in ms', async () => {
    for (const value of [null, -1, Number.NaN, 2 ** 40, '5', [], { timeoutMs: -1 }]) {
      await expectFluxArgumentError(() => publication.flush(value as never), 'timeoutMs');
      await expectFluxArgumentError(() => publication.connected(value as never), 'timeoutMs');
      await expectFluxArgumentError(() => publication.close(value as never), 'timeoutMs');
    }
    await expectFluxArgumentError(() => publication.flush({ signal: 'no' } as never), 'signal');
    await expectFluxArgumentError(() => publication.connected({ signal: {} } as never), 'signal');
  });

  it('onMessage, messages and onEvent check the stream id and the handler', async () => {
    for (const value of BAD_NUMBERS) {
      await expectFluxArgumentError(() => subscription.onMessage(value as never, () => {}), 'streamId');
      await expectFluxArgumentError(() => subscription.messages(value as never), 'streamId');
    }
    for (const handler of [undefined, null, 'notfn', 5, {}]) {
      await expectFluxArgumentError(() => subscription.onMessage(1, handler as never), 'handler');
      await expectFluxArgumentError(() => subscription.onEvent(handler as never), 'listener');
    }
  });

  it('throws only FluxErrors for arbitrary arguments (fast-check)', async () => {
    const calls: [string, (value: unknown) => unknown][] = [
      ['offer', (value) => publication.offer(value as never)],
      ['onMessage', (value) => subscription.onMessage(value as never, value as never)],
      ['onEvent', (value) => subscription.onEvent(value as never)],
      ['messages', (value) => subscription.messages(1, value as never).return?.()],
    ];
    await fc.assert(
      fc.asyncProperty(fc.anything(), fc.integer({ min: 0, max: calls.length - 1 }), async (value, which) => {
        try {
          await calls[which][1](value);
        } catch (error) {
          if (!isFluxError(error)) throw new Error(`${calls[which][0]}(${String(value)}) threw a non-Flux error: ${String(error)}`);
        }
      }),
      { numRuns: 300, seed: 17 },
    );
  });
});
