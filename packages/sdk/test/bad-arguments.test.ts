/**
 * @flux/sdk's own exports (startWorker, workerRings, exited, messages, readMessages,
 * readCounters, info, formatInfo, WorkerExitError) called with bad values: each throws, or
 * its promise rejects with, a FluxTypeError or FluxRangeError naming the argument; and a
 * property feeds arbitrary values to every argument: success or a FluxError, never a raw
 * error, never a hang. No worker thread is started here: every startWorker call is refused
 * before Node starts the thread. Every read ends at once (its consumer is removed).
 */
import { createRequire } from 'node:module';
import { describe as group, expect, it } from 'vitest';
import {
  exited,
  FluxHandlerError,
  FluxRangeError,
  FluxTypeError,
  formatInfo,
  info,
  isFluxError,
  messages,
  readCounters,
  readMessages,
  Ring,
  startWorker,
  WorkerExitError,
  workerRings,
} from '../src/index.js';

/**
 * fast-check as @flux/ring's tests use it (its devDependency, resolved from there, so this
 * package needs no lockfile change); typed as far as this file uses it.
 */
interface Arbitrary {
  readonly arbitrary?: never;
}
interface FastCheck {
  assert(property: unknown, options: { numRuns: number; seed?: number }): Promise<void>;
  asyncProperty(arbitrary: Arbitrary, predicate: (value: unknown) => Promise<void>): unknown;
  anything(options: Record<string, boolean>): Arbitrary;
  oneof(...arbitraries: Arbitrary[]): Arbitrary;
  constantFrom(...values: unknown[]): Arbitrary;
  uint8Array(options: { maxLength: number }): Arbitrary;
  integer(): Arbitrary;
  double(): Arbitrary;
  string(): Arbitrary;
}
const fc = createRequire(new URL('../../ring/package.json', import.meta.url))('fast-check') as FastCheck;

const EXISTING = new URL('./workers/exit-code.mjs', import.meta.url); // never started: every call below is refused first
const MISSING = './no-such-worker-file.mjs';

/** A consumer that was removed: every read of it ends at once, so only the argument checks are left to see. */
function removedConsumer() {
  const ring = Ring.create({ capacity: 8, maxMessageBytes: 8 });
  const id = ring.addConsumer();
  const consumer = ring.openConsumer(id);
  ring.removeConsumer(id);
  return consumer;
}

const BAD: readonly (readonly [string, () => unknown])[] = [
  ['undefined', () => undefined],
  ['null', () => null],
  ['NaN', () => Number.NaN],
  ['-1', () => -1],
  ['1.5', () => 1.5],
  ['2**53', () => 2 ** 53],
  ['Infinity', () => Infinity],
  ['-Infinity', () => -Infinity],
  ['"1"', () => '1'],
  ['"abc"', () => 'abc'],
  ['{}', () => ({})],
  ['[]', () => []],
  ['[1,2,3]', () => [1, 2, 3]],
  ['a function', () => () => 1],
  ['Uint16Array', () => new Uint16Array([258, 3])],
  ['true', () => true],
  ['1n', () => 1n],
  ['a symbol', () => Symbol('x')],
];

interface Case {
  label: string;
  names: RegExp;
  call: (value: unknown) => unknown;
  valid?: readonly string[];
  extra?: readonly unknown[];
}

const OPTIONS = ['undefined', '{}', 'Uint16Array'];
const TIMEOUT = ['undefined', 'Infinity', '2**53', '1.5'];
const handler = () => {};
const drain = async (iterator: AsyncGenerator<Uint8Array>) => {
  for await (const _ of iterator); // ends at once: the consumer is removed
};

const cases: Case[] = [
  {
    label: 'startWorker(url)',
    names: /\burl\b/,
    call: (v) => startWorker(v as string),
    extra: ['', 'worker.mjs', MISSING, '/no/such/file.mjs', '.', new URL('file:///no/such/file.mjs')],
  },
  // With a file that does not exist, a valid value gets as far as the url check (refused there, naming url).
  { label: 'startWorker(_, options)', names: /options/, call: (v) => startWorker(MISSING, v as never), valid: OPTIONS },
  { label: 'startWorker(_, { rings })', names: /rings/, call: (v) => startWorker(MISSING, { rings: v as never }), valid: ['undefined', '{}'] },
  {
    label: 'startWorker(_, { rings: { out } })',
    names: /rings\.out/,
    call: (v) => startWorker(MISSING, { rings: { out: v as Ring } }),
    extra: [Ring.create({ capacity: 8, maxMessageBytes: 8 }).handle],
  },
  { label: 'startWorker(_, { workerOptions })', names: /workerOptions/, call: (v) => startWorker(MISSING, { workerOptions: v as never }), valid: OPTIONS },
  {
    label: 'startWorker(_, { workerOptions }) that Node refuses',
    names: /workerOptions/,
    call: (v) => startWorker(EXISTING, { workerOptions: v as never }),
    valid: BAD.map(([label]) => label),
    extra: [{ execArgv: 5 }, { env: 5 }, { argv: 5 }],
  },
  {
    label: 'startWorker(_, { data }) not cloneable',
    names: /data/,
    call: (v) => startWorker(EXISTING, { data: v }),
    valid: BAD.map(([label]) => label),
    extra: [() => 1, { f: () => 1 }, Symbol('s')],
  },
  { label: 'exited(worker)', names: /worker/, call: (v) => exited(v as never), extra: [{ once() {} }] },
  { label: 'messages(consumer)', names: /consumer/, call: (v) => drain(messages(v as never)), extra: [{ poll() {} }] },
  { label: 'messages(_, options)', names: /options/, call: (v) => drain(messages(removedConsumer(), v as never)), valid: OPTIONS },
  {
    label: 'messages(_, { idleTimeoutMs })',
    names: /idleTimeoutMs/,
    call: (v) => drain(messages(removedConsumer(), { idleTimeoutMs: v as number })),
    valid: TIMEOUT,
  },
  { label: 'messages(_, { signal })', names: /signal/, call: (v) => drain(messages(removedConsumer(), { signal: v as AbortSignal })), valid: ['undefined'] },
  {
    label: 'messages(_, { maxBatch })',
    names: /maxBatch/,
    call: (v) => drain(messages(removedConsumer(), { maxBatch: v as number })),
    valid: ['undefined'],
    extra: [0, 2 ** 31],
  },
  { label: 'readMessages(consumer)', names: /consumer/, call: (v) => readMessages(v as never, handler) },
  { label: 'readMessages(_, handler)', names: /handler/, call: (v) => readMessages(removedConsumer(), v as never), valid: ['a function'] },
  { label: 'readMessages(_, _, options)', names: /options/, call: (v) => readMessages(removedConsumer(), handler, v as never), valid: OPTIONS },
  {
    label: 'readMessages(_, _, { idleTimeoutMs })',
    names: /idleTimeoutMs/,
    call: (v) => readMessages(removedConsumer(), handler, { idleTimeoutMs: v as number }),
    valid: TIMEOUT,
  },
  {
    label: 'readMessages(_, _, { signal })',
    names: /signal/,
    call: (v) => readMessages(removedConsumer(), handler, { signal: v as AbortSignal }),
    valid: ['undefined'],
  },
  {
    label: 'readCounters(source)',
    names: /source/,
    call: (v) => readCounters(v as never),
    extra: [{ counters: 5 }, { counters: {} }, { counters: { snapshot: 1 } }],
  },
  {
    label: 'formatInfo(report)',
    names: /report/,
    call: (v) => formatInfo(v as never),
    valid: ['undefined'],
    extra: [
      { ...info(), cores: 'two' },
      { ...info(), ioUring: null },
      { ...info(), ioUring: { ...info().ioUring, operations: [] } },
      { ...info(), affinity: [0, Symbol('cpu')] },
      { ...info(), numa: { ...info().numa, nodes: [Object.create(null)] } },
      { ...info(), udpBackend: { backend: 'dgram' } },
      { ...info(), node: Symbol('node') },
    ],
  },
  { label: 'new WorkerExitError(exitCode)', names: /exitCode/, call: (v) => new WorkerExitError(v as number), valid: ['-1'], extra: [2 ** 32] },
];

async function outcome(attempt: () => unknown): Promise<unknown> {
  try {
    await attempt();
  } catch (error) {
    return error ?? new Error('threw a nullish value');
  }
  return undefined;
}

const isArgumentError = (error: unknown) => isFluxError(error) && (error instanceof FluxTypeError || error instanceof FluxRangeError);

group('@flux/sdk refuses bad arguments with a FluxError naming them', () => {
  it.each(cases.map((c) => [c.label, c] as const))('%s', async (_label, c) => {
    const values: [string, unknown][] = [
      ...BAD.filter(([label]) => !(c.valid ?? []).includes(label)).map(([label, make]) => [label, make()] as [string, unknown]),
      ...(c.extra ?? []).map((value, i) => [`extra[${i}]`, value] as [string, unknown]),
    ];
    const wrong: string[] = [];
    for (const [label, value] of values) {
      const error = await outcome(() => c.call(value));
      if (error === undefined) wrong.push(`${label}: accepted`);
      else if (!isArgumentError(error)) wrong.push(`${label}: threw ${String(error)} (not a FluxTypeError / FluxRangeError)`);
      else if (!c.names.test((error as Error).message)) wrong.push(`${label}: message does not name it: ${(error as Error).message}`);
    }
    expect(wrong).toEqual([]);
  });

  it('refuses workerRings() outside a worker started by startWorker()', () => {
    expect(() => workerRings()).toThrow(FluxTypeError);
    expect(() => workerRings()).toThrow(/startWorker/);
  });
});

const anyValue = fc.oneof(
  fc.anything({ withBigInt: true, withBoxedValues: true, withMap: true, withSet: true, withTypedArray: true, withNullPrototype: true }),
  fc.constantFrom(Number.NaN, Infinity, -Infinity, -0, -1, 0, 1, 2 ** 31, 2 ** 53, '', '.', './', '/', 'x.mjs'),
  fc.uint8Array({ maxLength: 8 }),
  fc.integer(),
  fc.double(),
  fc.string(),
);

/** The property's cases: the table's, except the two that hand startWorker a file that exists (a valid value would start a worker). */
const propertyCases = cases.filter((c) => !c.label.includes('Node refuses') && !c.label.includes('not cloneable'));

group('arbitrary arguments give success or a FluxError, never a raw error or a hang', () => {
  it.each(propertyCases.map((c) => [c.label, c] as const))('%s', async (_label, c) => {
    await fc.assert(
      fc.asyncProperty(anyValue, async (value) => {
        const error = await outcome(() => c.call(value));
        if (error !== undefined && !isFluxError(error)) throw error;
      }),
      { numRuns: 200 },
    );
  });
});

group('reading with a handler that throws', () => {
  it('rejects with a FluxHandlerError carrying the cause, after releasing the messages up to it; the next read resumes after it', async () => {
    const ring = Ring.create({ capacity: 8, maxMessageBytes: 8 });
    const id = ring.addConsumer();
    const consumer = ring.openConsumer(id);
    const producer = ring.createProducer();
    for (let i = 0; i < 4; i++) producer.offer(Uint8Array.of(i));
    const boom = new Error('no 1s here');
    const seen: number[] = [];
    const error = await outcome(() =>
      readMessages(consumer, (bytes, offset) => {
        seen.push(bytes[offset]);
        if (bytes[offset] === 1) throw boom;
      }),
    );
    expect(error).toBeInstanceOf(FluxHandlerError);
    expect((error as FluxHandlerError).cause).toBe(boom);
    expect((error as FluxHandlerError).where).toBe('readMessages handler');
    expect(ring.consumerSequence(id)).toBe(1); // 0 and the one that threw are released
    const rest: number[] = [];
    for await (const message of messages(consumer, { idleTimeoutMs: 0 })) rest.push(message[0]);
    expect(seen).toEqual([0, 1]);
    expect(rest).toEqual([2, 3]); // nothing repeated, nothing lost
  });
});
