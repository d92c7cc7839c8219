/**
 * Every public function, method, constructor and option of @flux/ring, called with bad
 * values: each throws (or its promise rejects with) a FluxTypeError or FluxRangeError whose
 * message names the argument, and a property test feeds arbitrary values to every argument
 * and sees either success or a FluxError, never a raw TypeError or RangeError, never a hang
 * (every wait made here is given a short timeout, or has data to return at once).
 */
import fc from 'fast-check';
import { describe as group, expect, it } from 'vitest';
import {
  AsyncWaitStrategy,
  BlockingWaitStrategy,
  BusySpinWaitStrategy,
  Consumer,
  FluxRangeError,
  FluxTypeError,
  isFluxError,
  MultiProducer,
  PhasedWaitStrategy,
  Producer,
  Ring,
  SingleProducer,
  SleepingWaitStrategy,
  StallDetector,
  YieldingWaitStrategy,
  addSequence,
  sequenceDiff,
} from './index.js';
import {
  CAPACITY_INDEX,
  CLAIM_SEQUENCE_INDEX,
  CONSUMER_AFTER_MASK_FIELD,
  CONSUMER_SEQUENCE_FIELD,
  CONSUMER_STATE_FIELD,
  consumerFieldIndex,
  CURSOR_INDEX,
  MAX_CONSUMERS_INDEX,
  MAX_MESSAGE_BYTES_INDEX,
  PRODUCER_MODE_INDEX,
  SINGLE_PRODUCER_TAKEN_INDEX,
  SLEEPERS_INDEX,
  SLOT_STRIDE_BYTES_INDEX,
} from './layout.js';
import { describe } from './validate.js';

/** A ring with one message readable and one claim of two slots outstanding, and what it takes. */
function world(producerMode: 'single' | 'multi' = 'single') {
  const ring = Ring.create({ capacity: 8, maxMessageBytes: 8, producerMode, maxConsumers: 4 });
  const consumer = ring.openConsumer(ring.addConsumer());
  const producer = ring.createProducer();
  producer.offer(Uint8Array.of(1, 2));
  const first = producer.tryClaim(2, 1);
  return { ring, consumer, producer, first, probe: () => 1 };
}
type World = ReturnType<typeof world>;

/** The usual suspects; a case lists those its argument accepts in `valid`. */
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
  /** What is called, as the test name shows it. */
  label: string;
  /** Must appear in the message: the argument's name. */
  names: RegExp;
  call: (w: World, value: unknown) => unknown;
  /** Labels of BAD values this argument accepts. */
  valid?: readonly string[];
  /** Further bad values for this argument. */
  extra?: readonly unknown[];
  producerMode?: 'single' | 'multi';
}

const OPTIONAL = ['undefined'];
const OPTIONS = ['undefined', '{}', 'Uint16Array']; // an options bag: any object will do
const TIMEOUT = ['Infinity', '2**53', '1.5']; // a timeout may be as long as you like
const LONG = ['undefined', '2**53', '1.5']; // optional, and any finite length of time will do
const strategies: (() => { name: string; waitFor: BusySpinWaitStrategy['waitFor'] })[] = [
  () => new BusySpinWaitStrategy(),
  () => new YieldingWaitStrategy(),
  () => new SleepingWaitStrategy(),
  () => new BlockingWaitStrategy(),
  () => new PhasedWaitStrategy(),
];

const ringCases: Case[] = [
  { label: 'Ring.create(options)', names: /options/, call: (_w, v) => Ring.create(v as never), valid: ['{}', 'Uint16Array'] },
  {
    label: 'Ring.create({ capacity })',
    names: /capacity/,
    call: (_w, v) => Ring.create({ capacity: v as number, maxMessageBytes: 8 }),
    extra: [0, 3, 2 ** 30],
  },
  {
    label: 'Ring.create({ maxMessageBytes })',
    names: /maxMessageBytes/,
    call: (_w, v) => Ring.create({ capacity: 8, maxMessageBytes: v as number }),
    extra: [2 ** 31],
  },
  {
    label: 'Ring.create({ maxConsumers })',
    names: /maxConsumers/,
    call: (_w, v) => Ring.create({ capacity: 8, maxMessageBytes: 8, maxConsumers: v as number }),
    valid: OPTIONAL,
    extra: [0, 33],
  },
  {
    label: 'Ring.create({ producerMode })',
    names: /producerMode/,
    call: (_w, v) => Ring.create({ capacity: 8, maxMessageBytes: 8, producerMode: v as never }),
    valid: OPTIONAL,
    extra: ['many', 'SINGLE'],
  },
  { label: 'Ring.attach(handle)', names: /handle/, call: (_w, v) => Ring.attach(v as never) },
  { label: 'Ring.attach({ layoutVersion })', names: /layout version/, call: (w, v) => Ring.attach({ ...w.ring.handle, layoutVersion: v as number }) },
  {
    label: 'Ring.attach({ buffer })',
    names: /buffer/,
    call: (w, v) => Ring.attach({ ...w.ring.handle, buffer: v as SharedArrayBuffer }),
    extra: [new ArrayBuffer(4096), new SharedArrayBuffer(513), new SharedArrayBuffer(100), new SharedArrayBuffer(4096)],
  },
  {
    label: 'new Producer() (abstract)',
    names: /Producer is abstract/,
    call: (w, v) => new (Producer as unknown as new (r: unknown) => Producer)(v ?? w.ring),
    valid: [],
  },
  { label: 'new Ring()', names: /Ring\.create/, call: (_w, v) => new (Ring as unknown as new (v: unknown) => Ring)(v), valid: [], extra: [] },
  { label: 'ring.offsetOf(sequence)', names: /sequence/, call: (w, v) => w.ring.offsetOf(v as number), extra: [2 ** 32] },
  { label: 'ring.lengthOf(sequence)', names: /sequence/, call: (w, v) => w.ring.lengthOf(v as number), extra: [2 ** 32] },
  { label: 'ring.openConsumer(id)', names: /consumer id|consumer \d+ is not active/, call: (w, v) => w.ring.openConsumer(v as number), extra: [3, 4] },
  { label: 'ring.addConsumer(options)', names: /options/, call: (w, v) => w.ring.addConsumer(v as never), valid: OPTIONS },
  {
    label: 'ring.addConsumer({ after })',
    names: /after/,
    call: (w, v) => w.ring.addConsumer({ after: v as number[] }),
    valid: ['undefined', '[]'],
    extra: [[1.5], [-1], [99], [Number.NaN], ['0'], [null], [3], 'ab', new Set([0])],
  },
  { label: 'ring.removeConsumer(id)', names: /consumer id/, call: (w, v) => w.ring.removeConsumer(v as number), extra: [4] },
  { label: 'ring.isConsumerActive(id)', names: /consumer id/, call: (w, v) => w.ring.isConsumerActive(v as number), extra: [4] },
  { label: 'ring.consumerSequence(id)', names: /consumer id/, call: (w, v) => w.ring.consumerSequence(v as number), extra: [4] },
  { label: 'ring.minimumGatingSequence(reference)', names: /reference/, call: (w, v) => w.ring.minimumGatingSequence(v as number), extra: [2 ** 31] },
  { label: 'ring.scanPublished(after, limit) (single producer)', names: /scanPublished/, call: (w, v) => w.ring.scanPublished(0, v as number), extra: [8] },
  { label: 'ring.scanPublished(after)', names: /after/, call: (w, v) => w.ring.scanPublished(v as number, 8), extra: [2 ** 31], producerMode: 'multi' },
  { label: 'ring.scanPublished(_, limit)', names: /limit/, call: (w, v) => w.ring.scanPublished(0, v as number), extra: [9], producerMode: 'multi' },
  { label: 'new StallDetector(ring)', names: /ring/, call: (_w, v) => new StallDetector(v as Ring, 1) },
  {
    label: 'new StallDetector(_, stallTimeoutNs)',
    names: /stallTimeoutNs/,
    call: (w, v) => new StallDetector(w.ring, v as number),
    valid: ['2**53', '1.5'],
    extra: [0],
  },
  { label: 'stallDetector.poll(nowNs)', names: /nowNs/, call: (w, v) => new StallDetector(w.ring, 1).poll(v as number), valid: ['2**53', '1.5'] },
  { label: 'new Consumer(ring)', names: /ring/, call: (_w, v) => new Consumer(v as Ring, 0) },
  { label: 'new Consumer(_, id)', names: /consumer id|consumer \d+ is not active/, call: (w, v) => new Consumer(w.ring, v as number), extra: [1, 4] },
  { label: 'consumer.available(max)', names: /max/, call: (w, v) => w.consumer.available(v as number), valid: OPTIONAL, extra: [2 ** 31] },
  { label: 'consumer.release(count)', names: /count/, call: (w, v) => w.consumer.release(v as number), extra: [2, 2 ** 31] },
  { label: 'consumer.poll(handler)', names: /handler/, call: (w, v) => w.consumer.poll(v as never), valid: ['a function'] },
  {
    label: 'consumer.poll(_, maxMessages)',
    names: /maxMessages/,
    call: (w, v) => w.consumer.poll(() => {}, v as number),
    valid: OPTIONAL,
    extra: [0, 2 ** 31],
  },
  { label: 'consumer.waitFor(strategy)', names: /strategy/, call: (w, v) => w.consumer.waitFor(v as never, 0), extra: [new AsyncWaitStrategy()] },
  { label: 'consumer.waitFor(_, timeoutMs)', names: /timeoutMs/, call: (w, v) => w.consumer.waitFor(new BusySpinWaitStrategy(), v as number), valid: TIMEOUT },
  { label: 'consumer.waitForAsync(strategy)', names: /strategy/, call: (w, v) => w.consumer.waitForAsync(v as never, 0), extra: [new BusySpinWaitStrategy()] },
  {
    label: 'consumer.waitForAsync(_, timeoutMs)',
    names: /timeoutMs/,
    call: (w, v) => w.consumer.waitForAsync(new AsyncWaitStrategy(), v as number),
    valid: TIMEOUT,
  },
  {
    label: 'consumer.waitForAsync(_, _, options)',
    names: /options/,
    call: (w, v) => w.consumer.waitForAsync(new AsyncWaitStrategy(), 0, v as never),
    valid: OPTIONS,
  },
  {
    label: 'consumer.waitForAsync(_, _, { unref })',
    names: /unref/,
    call: (w, v) => w.consumer.waitForAsync(new AsyncWaitStrategy(), 0, { unref: v as boolean }),
    valid: ['undefined', 'true'],
  },
  { label: 'addSequence(sequence)', names: /sequence/, call: (_w, v) => addSequence(v as number, 1), extra: [2 ** 32] },
  { label: 'addSequence(_, count)', names: /count/, call: (_w, v) => addSequence(0, v as number), valid: ['-1'], extra: [2 ** 31] },
  { label: 'sequenceDiff(a)', names: /^a must/, call: (_w, v) => sequenceDiff(v as number, 0) },
  { label: 'sequenceDiff(_, b)', names: /^b must/, call: (_w, v) => sequenceDiff(0, v as number) },
  { label: 'new PhasedWaitStrategy(options)', names: /options/, call: (_w, v) => new PhasedWaitStrategy(v as never), valid: OPTIONS },
  { label: 'new PhasedWaitStrategy({ spinMs })', names: /spinMs/, call: (_w, v) => new PhasedWaitStrategy({ spinMs: v as number }), valid: LONG },
  { label: 'new PhasedWaitStrategy({ yieldMs })', names: /yieldMs/, call: (_w, v) => new PhasedWaitStrategy({ yieldMs: v as number }), valid: LONG },
  { label: 'new PhasedWaitStrategy({ fallback })', names: /fallback/, call: (_w, v) => new PhasedWaitStrategy({ fallback: v as never }), valid: OPTIONAL },
  { label: 'new SleepingWaitStrategy(options)', names: /options/, call: (_w, v) => new SleepingWaitStrategy(v as never), valid: OPTIONS },
  {
    label: 'new SleepingWaitStrategy({ minNapMs })',
    names: /minNapMs/,
    call: (_w, v) => new SleepingWaitStrategy({ minNapMs: v as number }),
    valid: LONG,
    extra: [0],
  },
  {
    label: 'new SleepingWaitStrategy({ maxNapMs })',
    names: /maxNapMs/,
    call: (_w, v) => new SleepingWaitStrategy({ minNapMs: 0.5, maxNapMs: v as number }),
    valid: LONG,
    extra: [0.25, 0],
  },
];

// Wait strategies: the same three arguments for each, checked the same way.
for (const make of strategies) {
  const name = make().name;
  ringCases.push(
    { label: `${name}.waitFor(probe)`, names: /probe/, call: (w, v) => make().waitFor(v as never, w.ring.int32, 0), valid: ['a function'] },
    {
      label: `${name}.waitFor(_, int32)`,
      names: /int32/,
      call: (w, v) => make().waitFor(w.probe, v as never, 0),
      extra: [new Int32Array(256), new Int32Array(new SharedArrayBuffer(8)), new Uint8Array(new SharedArrayBuffer(1024))],
    },
    { label: `${name}.waitFor(_, _, timeoutMs)`, names: /timeoutMs/, call: (w, v) => make().waitFor(w.probe, w.ring.int32, v as number), valid: TIMEOUT },
  );
}
ringCases.push(
  {
    label: 'async.waitForAsync(probe)',
    names: /probe/,
    call: (w, v) => new AsyncWaitStrategy().waitForAsync(v as never, w.ring.int32, 0),
    valid: ['a function'],
  },
  {
    label: 'async.waitForAsync(_, int32)',
    names: /int32/,
    call: (w, v) => new AsyncWaitStrategy().waitForAsync(w.probe, v as never, 0),
    extra: [new Int32Array(256)],
  },
  {
    label: 'async.waitForAsync(_, _, timeoutMs)',
    names: /timeoutMs/,
    call: (w, v) => new AsyncWaitStrategy().waitForAsync(w.probe, w.ring.int32, v as number),
    valid: TIMEOUT,
  },
  {
    label: 'async.waitForAsync(_, _, _, options)',
    names: /options/,
    call: (w, v) => new AsyncWaitStrategy().waitForAsync(w.probe, w.ring.int32, 0, v as never),
    valid: OPTIONS,
  },
);

// Producers, in both modes: every argument of every method.
for (const producerMode of ['single', 'multi'] as const) {
  const P = producerMode === 'single' ? 'singleProducer' : 'multiProducer';
  const Ctor = producerMode === 'single' ? SingleProducer : MultiProducer;
  const p = (w: World): Producer => w.producer;
  ringCases.push(
    { label: `new ${Ctor.name}(ring)`, names: /ring/, call: (_w, v) => new Ctor(v as Ring) },
    {
      label: `${P}.offer(message)`,
      names: /message/,
      call: (w, v) => p(w).offer(v as Uint8Array),
      extra: [new ArrayBuffer(2), new DataView(new ArrayBuffer(2)), new Uint8Array(9), Buffer.alloc(9), new Int8Array(2)],
    },
    { label: `${P}.tryClaim(count)`, names: /count/, call: (w, v) => p(w).tryClaim(v as number), extra: [0, 9] },
    { label: `${P}.tryClaim(_, lengthBytes)`, names: /lengthBytes/, call: (w, v) => p(w).tryClaim(1, v as number), valid: OPTIONAL, extra: [9] },
    { label: `${P}.publish(first)`, names: /first|sequence/, call: (w, v) => p(w).publish(v as number, 1), extra: [0, 3, 5, 2 ** 32] },
    { label: `${P}.publish(_, count)`, names: /count|sequences/, call: (w, v) => p(w).publish(w.first, v as number), extra: [0, 3, 9] },
    { label: `${P}.abort(first)`, names: /first|sequence/, call: (w, v) => p(w).abort(v as number, 1), extra: [0, 5] },
    { label: `${P}.abort(_, count)`, names: /count|sequences/, call: (w, v) => p(w).abort(w.first, v as number), extra: [0, 3] },
    { label: `${P}.setLength(sequence)`, names: /sequence/, call: (w, v) => p(w).setLength(v as number, 1), extra: [0, 3, 4, 2 ** 32] },
    { label: `${P}.setLength(_, lengthBytes)`, names: /lengthBytes/, call: (w, v) => p(w).setLength(w.first, v as number), extra: [9] },
    { label: `${P}.hasCapacity(count)`, names: /count/, call: (w, v) => p(w).hasCapacity(v as number), extra: [0, 9] },
    { label: `${P}.waitForCapacity(count)`, names: /count/, call: (w, v) => p(w).waitForCapacity(v as number, new BusySpinWaitStrategy(), 0), extra: [0, 9] },
    { label: `${P}.waitForCapacity(_, strategy)`, names: /strategy/, call: (w, v) => p(w).waitForCapacity(1, v as never, 0) },
    {
      label: `${P}.waitForCapacity(_, _, timeoutMs)`,
      names: /timeoutMs/,
      call: (w, v) => p(w).waitForCapacity(1, new BusySpinWaitStrategy(), v as number),
      valid: TIMEOUT,
    },
  );
  for (const c of ringCases.slice(-14)) c.producerMode = producerMode;
}

/** Runs `attempt`; the error it throws or its promise rejects with, or undefined if it succeeds. */
async function outcome(attempt: () => unknown): Promise<unknown> {
  try {
    await attempt();
  } catch (error) {
    return error ?? new Error('threw a nullish value');
  }
  return undefined;
}

function isArgumentError(error: unknown): boolean {
  return isFluxError(error) && (error instanceof FluxTypeError || error instanceof FluxRangeError);
}

group('every public call refuses bad arguments with a FluxError naming them', () => {
  it.each(ringCases.map((c) => [c.label, c] as const))('%s', async (_label, c) => {
    const values: [string, unknown][] = [
      ...BAD.filter(([label]) => !(c.valid ?? []).includes(label)).map(([label, make]) => [label, make()] as [string, unknown]),
      ...(c.extra ?? []).map((value) => [describe(value), value] as [string, unknown]),
    ];
    const wrong: string[] = [];
    for (const [label, value] of values) {
      const error = await outcome(() => c.call(world(c.producerMode), value));
      if (error === undefined) wrong.push(`${label}: accepted`);
      else if (!isArgumentError(error)) wrong.push(`${label}: threw ${String(error)} (not a FluxTypeError / FluxRangeError)`);
      else if (!c.names.test((error as Error).message)) wrong.push(`${label}: message does not name it: ${(error as Error).message}`);
    }
    expect(wrong).toEqual([]);
  });
});

/** Anything, plus the values that probe edges: special numbers, typed arrays, buffers. */
const anyValue = fc.oneof(
  fc.anything({ withBigInt: true, withBoxedValues: true, withMap: true, withSet: true, withTypedArray: true, withSparseArray: true, withNullPrototype: true }),
  fc.constantFrom(Number.NaN, Infinity, -Infinity, -0, 2 ** 31, 2 ** 32, 2 ** 53, -1, 0, 1, 7, 8, 9),
  fc.uint8Array({ maxLength: 12 }),
  fc.integer(),
  fc.double(),
);

group('arbitrary arguments give success or a FluxError, never a raw error or a hang', () => {
  it.each(ringCases.map((c) => [c.label, c] as const))('%s', async (_label, c) => {
    await fc.assert(
      fc.asyncProperty(anyValue, async (value) => {
        const error = await outcome(() => c.call(world(c.producerMode), value));
        if (error !== undefined && !isFluxError(error)) throw error; // a raw error: the property fails, showing it
      }),
      { numRuns: 200 },
    );
  });
});

group('what a tester found accepted silently', () => {
  it('refuses anything but a Uint8Array as a message, writing nothing', () => {
    for (const producerMode of ['single', 'multi'] as const) {
      const ring = Ring.create({ capacity: 8, maxMessageBytes: 8, producerMode });
      const consumer = ring.openConsumer(ring.addConsumer());
      const producer = ring.createProducer();
      for (const bad of ['abc', new Uint16Array([258, 3]), {}, [1, 2, 3], new ArrayBuffer(3), null, undefined]) {
        expect(() => producer.offer(bad as never)).toThrow(FluxTypeError);
        expect(() => producer.offer(bad as never)).toThrow(/message must be a Uint8Array/);
      }
      expect(consumer.available()).toBe(0);
      expect(producer.offer(Buffer.from('hi'))).toBe(0); // a Buffer is a Uint8Array
      expect(() => producer.offer('abc' as never)).toThrow(/encode it first/);
    }
  });

  it('multi producer: refuses to publish an unclaimed sequence, another producer’s claim, or one claim twice', () => {
    const ring = Ring.create({ capacity: 8, maxMessageBytes: 8, producerMode: 'multi' });
    const consumer = ring.openConsumer(ring.addConsumer());
    const a = ring.createProducer();
    const b = ring.createProducer();
    expect(() => a.publish(0, 1)).toThrow(/publish: sequence 0 not claimed by this producer.*no outstanding claim/);
    const mine = a.tryClaim(2, 1);
    const theirs = b.tryClaim(1, 1);
    expect(() => a.publish(theirs, 1)).toThrow(FluxRangeError);
    expect(() => a.publish(theirs, 1)).toThrow(new RegExp(`sequence ${theirs} not claimed by this producer.*outstanding claims: 0 to 1`));
    expect(() => a.publish(mine, 3)).toThrow(/sequences 0 to 2 not claimed/); // past its claim
    expect(() => b.abort(mine, 2)).toThrow(/abort: sequences 0 to 1 not claimed by this producer/);
    expect(() => a.setLength(theirs, 1)).toThrow(/setLength: sequence 2 is not claimed by this producer/);
    expect(consumer.available()).toBe(0); // nothing was published by the refused calls
    a.publish(mine, 2);
    expect(() => a.publish(mine, 2)).toThrow(/sequences 0 to 1 not claimed by this producer, or already published/);
    expect(() => a.setLength(mine, 1)).toThrow(FluxRangeError);
    b.publish(theirs, 1);
    expect(() => b.abort(theirs, 1)).toThrow(/already published or aborted/);
    expect(consumer.available()).toBe(3);
  });

  it('multi producer: still publishes a claim in pieces, in any order (the protocol is unchanged)', () => {
    const ring = Ring.create({ capacity: 16, maxMessageBytes: 8, producerMode: 'multi' });
    const consumer = ring.openConsumer(ring.addConsumer());
    const producer = ring.createProducer();
    const first = producer.tryClaim(4, 1);
    const next = producer.tryClaim(2, 1); // directly after: merged with the first claim
    for (let i = 0; i < 6; i++) ring.bytes[ring.offsetOf(first + i)] = 10 + i;
    producer.publish(first + 1, 2); // the middle of the first claim
    expect(consumer.available()).toBe(0);
    producer.abort(first + 3, 1);
    producer.publish(first, 1);
    producer.publish(next, 2);
    expect(() => producer.publish(first + 1, 1)).toThrow(FluxRangeError);
    const seen: number[] = [];
    consumer.poll((bytes, offset) => seen.push(bytes[offset]));
    expect(seen).toEqual([10, 11, 12, 14, 15]);
  });

  it('single producer: refuses setLength, publish and abort outside its claim', () => {
    const ring = Ring.create({ capacity: 8, maxMessageBytes: 8 });
    ring.addConsumer();
    const producer = ring.createProducer();
    expect(() => producer.setLength(0, 1)).toThrow(/setLength: sequence 0 is not claimed and unpublished.*nothing is claimed/);
    expect(() => producer.publish(0, 1)).toThrow(/publish: sequence 0 is not claimed/);
    const first = producer.tryClaim(2, 1);
    expect(() => producer.setLength(first + 2, 1)).toThrow(/claimed and unpublished: 0 to 1/);
    producer.setLength(first + 1, 3);
    producer.publish(first, 1);
    expect(() => producer.setLength(first, 1)).toThrow(FluxRangeError); // published
    expect(() => producer.publish(first, 1)).toThrow(/expected sequence 1, got 0/); // twice
    expect(() => producer.publish(first + 1, 2 ** 31 - 1)).toThrow(/count/); // a count that would wrap round
    producer.publish(first + 1, 1);
    expect(() => producer.abort(first + 1, 1)).toThrow(/abort: sequence 1 is not claimed/);
  });

  it('refuses a NaN sequence, a null producerMode, and BACK_PRESSURED as a sequence', () => {
    const ring = Ring.create({ capacity: 8, maxMessageBytes: 8 });
    expect(() => ring.offsetOf(Number.NaN)).toThrow(FluxRangeError);
    expect(() => ring.offsetOf(-1)).toThrow(/sequence must be an integer from 0 to 4294967295, got -1/);
    expect(ring.offsetOf(2 ** 31 + 1)).toBe(ring.offsetOf(1)); // first + i across the wrap
    expect(() => Ring.create({ capacity: 8, maxMessageBytes: 8, producerMode: null as never })).toThrow(
      /producerMode must be one of 'single', 'multi', got null/,
    );
  });

  it.each([
    ['producer mode 7', PRODUCER_MODE_INDEX, 7, /producerMode must be from 1 to 2, got 7/],
    ['producer mode 0', PRODUCER_MODE_INDEX, 0, /producerMode/],
    ['capacity not a power of two', CAPACITY_INDEX, 12, /capacity must be a power of two, got 12/],
    ['capacity 0', CAPACITY_INDEX, 0, /capacity must be from 2/],
    ['capacity beyond 2^29', CAPACITY_INDEX, 2 ** 30, /capacity/],
    ['maxMessageBytes negative', MAX_MESSAGE_BYTES_INDEX, -8, /maxMessageBytes/],
    ['maxMessageBytes changed', MAX_MESSAGE_BYTES_INDEX, 64, /slotStrideBytes/],
    ['slot stride', SLOT_STRIDE_BYTES_INDEX, 12, /slotStrideBytes must be from 8 to 8, got 12/],
    ['maxConsumers 0', MAX_CONSUMERS_INDEX, 0, /maxConsumers must be from 1 to 32, got 0/],
    ['maxConsumers 33', MAX_CONSUMERS_INDEX, 33, /maxConsumers/],
    ['maxConsumers changed', MAX_CONSUMERS_INDEX, 5, /does not match its header's geometry/],
    ['single-producer flag', SINGLE_PRODUCER_TAKEN_INDEX, 9, /single-producer flag/],
    ['claim sequence negative', CLAIM_SEQUENCE_INDEX, -3, /claim sequence/],
    ['cursor negative', CURSOR_INDEX, -3, /cursor/],
    ['sleeper count negative', SLEEPERS_INDEX, -1, /sleeper count/],
    ['consumer state 7', consumerFieldIndex(1, CONSUMER_STATE_FIELD), 7, /consumer 1 state/],
    ['consumer sequence negative', consumerFieldIndex(0, CONSUMER_SEQUENCE_FIELD), -5, /consumer 0 sequence/],
    ['consumer dependency beyond maxConsumers', consumerFieldIndex(0, CONSUMER_AFTER_MASK_FIELD), 1 << 9, /consumer 0 dependencies/],
  ])('Ring.attach refuses a tampered header: %s', (_label, index, value, message) => {
    const ring = Ring.create({ capacity: 8, maxMessageBytes: 8, maxConsumers: 4 });
    ring.int32[index] = value;
    const error = (() => {
      try {
        Ring.attach(ring.handle);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(isArgumentError(error)).toBe(true);
    expect((error as Error).message).toMatch(message);
  });

  it('Ring.attach refuses a buffer whose length its header does not imply', () => {
    const ring = Ring.create({ capacity: 8, maxMessageBytes: 8 });
    const longer = new SharedArrayBuffer(ring.buffer.byteLength + 128);
    new Uint8Array(longer).set(ring.bytes);
    expect(() => Ring.attach({ ...ring.handle, buffer: longer })).toThrow(FluxRangeError);
    const odd = new SharedArrayBuffer(ring.buffer.byteLength + 1);
    new Uint8Array(odd).set(ring.bytes);
    expect(() => Ring.attach({ ...ring.handle, buffer: odd })).toThrow(/a multiple of 4/);
  });

  it('refuses wrong values where a raw TypeError used to escape', async () => {
    const { ring, consumer } = world();
    expect(() => ring.addConsumer({ after: 5 as never })).toThrow(/after must be an array of consumer ids, got 5/);
    expect(() => new BusySpinWaitStrategy().waitFor(undefined as never, ring.int32, 0)).toThrow(/probe must be a function, got undefined/);
    expect(() => consumer.waitFor(undefined as never, 0)).toThrow(/strategy must be a wait strategy/);
    await expect(consumer.waitForAsync(new AsyncWaitStrategy(), Number.NaN)).rejects.toThrow(FluxRangeError);
    expect(() => ring.scanPublished(0, 8)).toThrow(/multi-producer/);
  });
});

group('a handler that throws inside poll', () => {
  it.each(['single', 'multi'] as const)('releases the messages before it and itself, propagates, and resumes after it (%s)', (producerMode) => {
    const ring = Ring.create({ capacity: 8, maxMessageBytes: 8, producerMode });
    const id = ring.addConsumer();
    const consumer = ring.openConsumer(id);
    const producer = ring.createProducer();
    for (let i = 0; i < 5; i++) producer.offer(Uint8Array.of(i));
    const boom = new Error('handler failed on 2');
    const seen: number[] = [];
    expect(() =>
      consumer.poll((bytes, offset) => {
        seen.push(bytes[offset]);
        if (bytes[offset] === 2) throw boom;
      }),
    ).toThrow(boom); // the handler's own error, unchanged
    expect(seen).toEqual([0, 1, 2]);
    expect(ring.consumerSequence(id)).toBe(2); // 0, 1 and the one that threw are released
    expect(consumer.nextSequence).toBe(3);
    consumer.poll((bytes, offset) => seen.push(bytes[offset]), 1);
    expect(seen).toEqual([0, 1, 2, 3]); // the next delivered is the one after it
    consumer.poll((bytes, offset) => seen.push(bytes[offset]));
    expect(seen).toEqual([0, 1, 2, 3, 4]); // nothing repeated, nothing lost
  });

  it('cannot stall the consumer: a handler that always throws still advances one message per poll', () => {
    const ring = Ring.create({ capacity: 4, maxMessageBytes: 8 });
    const consumer = ring.openConsumer(ring.addConsumer());
    const producer = ring.createProducer();
    for (let i = 0; i < 4; i++) producer.offer(Uint8Array.of(i));
    for (let i = 0; i < 4; i++) {
      expect(() =>
        consumer.poll(() => {
          throw new Error('always');
        }),
      ).toThrow('always');
    }
    expect(consumer.available()).toBe(0);
    expect(producer.offer(Uint8Array.of(9))).toBe(4); // every slot was given back
  });

  it('refuses poll and release from inside its own handler', () => {
    const { consumer } = world();
    expect(() => consumer.poll(() => consumer.poll(() => {}))).toThrow(/poll\(\) was called from inside its own handler/);
    expect(consumer.available()).toBe(0); // the message was consumed once
  });

  it('refuses release from inside a poll handler', () => {
    const { consumer } = world();
    expect(() => consumer.poll(() => consumer.release(1))).toThrow(/release\(\) was called from inside a poll\(\) handler/);
    expect(consumer.available()).toBe(0);
  });
});
