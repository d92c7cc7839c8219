import { describe, expect, it } from 'vitest';
import { isFluxError } from '@flux/ring';
import {
  adviseHugePages,
  allocateHugeBuffer,
  bindToNode,
  capability,
  DESCRIPTOR_UINT32S,
  hugePageResidency,
  SendFlag,
  setAffinity,
  UringUdpSocket,
} from '../src/index.js';
import { loadNative } from '../src/native.js';

const native = capability().usable ? it : it.skip;

describe('bad arguments get clear errors, never a crash', () => {
  native('socket options', () => {
    expect(() => UringUdpSocket.create({ entries: 100 })).toThrow(/entries must be a power of two from 8 to 32768, got 100/);
    expect(() => UringUdpSocket.create({ maxInFlight: 0 })).toThrow(RangeError);
    expect(() => UringUdpSocket.create({ family: 'IPv5' as 'IPv4' })).toThrow(TypeError);
    const { binding } = loadNative();
    expect(() => new binding!.UringUdpSocket(5 as 4, 256, 16)).toThrow(/family must be 4 or 6, got 5/);
    expect(() => new binding!.UringUdpSocket(4, 7, 16)).toThrow(/entries must be an integer from 8/);
  });

  native('addresses and ports', () => {
    const s = UringUdpSocket.create();
    expect(() => s.bind('not-an-address', 0)).toThrow(/address must be an IPv4 address for this socket, got 'not-an-address'/);
    expect(() => s.bind('::1', 0)).toThrow(TypeError);
    expect(() => s.connect('127.0.0.1', 70000)).toThrow(/port must be an integer from 0 to 65535, got 70000/);
    expect(() => s.bind('127.0.0.1', 1.5)).toThrow(TypeError); // a fraction is the wrong kind of value (@flux/ring/validate)
    s.bind('127.0.0.1', 0);
    const taken = s.address().port;
    const other = UringUdpSocket.create();
    expect(() => other.bind('127.0.0.1', taken)).toThrow(expect.objectContaining({ code: 'EADDRINUSE', syscall: 'bind', errno: -98 }));
    other.close();
    s.close();
  });

  native('buffers and descriptors', () => {
    const s = UringUdpSocket.create();
    s.connect('127.0.0.1', 9);
    expect(() => s.registerBuffers([] as Uint8Array[])).toThrow(/1 to 1024 buffers, got 0/);
    expect(() => s.registerBuffers(['x' as unknown as Uint8Array])).toThrow(/buffers\[0\] must be a TypedArray/);
    expect(() => s.registerBuffers([new Uint8Array(0)])).toThrow(/buffers\[0\] must be 1 byte to 1 GiB long, got 0/);
    s.registerBuffers([new Uint8Array(100)]);
    expect(() => s.registerBuffers([new Uint8Array(100)])).toThrow(/already registered/);
    const d = new Uint32Array(2 * DESCRIPTOR_UINT32S);
    expect(() => s.send(new Int32Array(8) as unknown as Uint32Array, 1)).toThrow(/descriptors must be a Uint32Array/);
    expect(() => s.send(d, 3)).toThrow(/count 3 needs 24 descriptor words, the array has 16/);
    d.set([0, 1, 0, 10, 0, 0, 0, 0]);
    expect(() => s.send(d, 1)).toThrow(/descriptor 0: buffer0 1 is not a registered buffer \(1 registered\)/);
    d.set([0, 0, 95, 10, 0, 0, 0, 0]);
    expect(() => s.send(d, 1)).toThrow(/descriptor 0: bytes 95..105 lie outside buffer 0 \(100 bytes\)/);
    d.set([0, 0, 0, 0, 0, 0, 0, 0]);
    expect(() => s.send(d, 1)).toThrow(/length0 must be at least 1/);
    // A bad descriptor after good ones queues none of them.
    d.set([0, 0, 0, 10, 0, 0, 0, 0], 0);
    d.set([1, 0, 0, 10, 0, 90, 20, 0], DESCRIPTOR_UINT32S);
    expect(() => s.send(d, 2)).toThrow(/descriptor 1: bytes 90..110/);
    expect(s.stats().sendsInFlight).toBe(0);
    expect(() => s.poll(new Int32Array(3))).toThrow(/at least one record/);
    expect(() => s.poll(new Uint32Array(8) as unknown as Int32Array)).toThrow(/records must be an Int32Array/);
    expect(() => s.poll(new Int32Array(8), -1)).toThrow(/waitNs must be an integer/);
    expect(() => s.sendTo(new Uint16Array(4) as unknown as Uint8Array, 4, '127.0.0.1', 9)).toThrow(/bytes must be a Uint8Array/);
    expect(() => s.sendTo(new Uint8Array(4), 0, '127.0.0.1', 9)).toThrow(/lengthBytes must be an integer/);
    expect(() => s.sendTo(new Uint8Array(4), 4, 'not-an-ip', 9)).toThrow(/address must be an IPv4 address/);
    expect(() => s.sendTo(new Uint8Array(4), 4, '127.0.0.1', 65_536)).toThrow(/port must be an integer/);
    s.close();
    expect(() => s.send(d, 1)).toThrow(/the socket is closed/);
    expect(() => s.sendTo(new Uint8Array(4), 4, '127.0.0.1', 9)).toThrow(/the socket is closed/);
  });

  native('receive setup', () => {
    const s = UringUdpSocket.create();
    expect(() => s.startReceive({ parts: 3 })).toThrow(/parts must be a power of two, got 3/);
    expect(() => s.startReceive({ partBytes: 0 })).toThrow(RangeError);
    s.setReceiveCoalescing(false);
    s.startReceive({ parts: 8 });
    expect(() => s.startReceive({ parts: 8 })).toThrow(/already receiving/);
    expect(() => s.setReceiveCoalescing(true)).toThrow(/before startReceive/);
    expect(() => s.onReady(42 as unknown as () => void)).toThrow(/callback must be a function or null/);
    expect(() => s.setSegmentBytes(-1)).toThrow(RangeError);
    s.close();
  });

  it('hints', () => {
    expect(() => setAffinity([-1])).toThrow(/cpus\[0\] must be an integer from 0 to 1023, got -1/);
    expect(() => setAffinity([])).toThrow(/at least one CPU/);
    expect(() => bindToNode(new Uint8Array(8), 64)).toThrow(/node must be an integer from 0 to 63, got 64/);
    expect(() => adviseHugePages('x' as unknown as Uint8Array)).toThrow(TypeError);
    expect(() => allocateHugeBuffer(0)).toThrow(/bytes must be an integer from 1/);
  });
});

/** The values every argument is tried with (each call below says which of them are bad for it). */
const BAD = {
  undefined: undefined,
  null: null,
  NaN: Number.NaN,
  '-1': -1,
  '1.5': 1.5,
  '2**53': 2 ** 53,
  Infinity: Number.POSITIVE_INFINITY,
  string: 'abc',
  object: {},
  array: [1, 2, 3],
} as const;
type BadName = keyof typeof BAD;
const ALL = Object.keys(BAD) as BadName[];
const except = (...keep: BadName[]) => ALL.filter((name) => !keep.includes(name));

/** Expects `call` to throw a FluxTypeError or FluxRangeError whose message names `name`. */
function expectFluxArgumentError(call: () => unknown, name: string, label: string): void {
  let thrown: unknown;
  try {
    call();
  } catch (error) {
    thrown = error;
  }
  expect(thrown, `${label}: nothing thrown`).toBeDefined();
  expect(isFluxError(thrown), `${label}: ${String(thrown)} is not a FluxError`).toBe(true);
  const e = thrown as Error & { code: string };
  expect(['ERR_FLUX_INVALID_TYPE', 'ERR_FLUX_OUT_OF_RANGE'], `${label}: ${e.code}`).toContain(e.code);
  expect(e instanceof TypeError || e instanceof RangeError, label).toBe(true);
  expect(e.message, label).toContain(name);
}

describe('every public function refuses every bad value with a FluxError naming the argument (sweep)', () => {
  // [what, argument name, bad values, call with the value]
  type Row = [string, string, BadName[], (value: unknown) => unknown];
  const socketRows = (s: () => UringUdpSocket): Row[] => [
    ['bind address', 'address', except('undefined'), (v) => s().bind(v as string, 0)],
    ['bind port', 'port', except('undefined'), (v) => s().bind('127.0.0.1', v as number)],
    ['connect address', 'address', ALL, (v) => s().connect(v as string, 9)],
    ['connect port', 'port', ALL, (v) => s().connect('127.0.0.1', v as number)],
    ['registerBuffers', 'buffers', ALL, (v) => s().registerBuffers(v as Uint8Array[])],
    ['registerBuffers element', 'buffers[0]', ALL, (v) => s().registerBuffers([v as Uint8Array])],
    ['send descriptors', 'descriptors', ALL, (v) => s().send(v as Uint32Array, 0)],
    ['send count', 'count', ALL, (v) => s().send(new Uint32Array(8), v as number)],
    ['poll records', 'records', ALL, (v) => s().poll(v as Int32Array)],
    ['poll waitNs', 'waitNs', except('undefined'), (v) => s().poll(new Int32Array(8), v as number)],
    ['startReceive options', 'options', except('undefined', 'object'), (v) => s().startReceive(v as object)],
    ['startReceive partBytes', 'partBytes', except('undefined'), (v) => s().startReceive({ partBytes: v as number })],
    ['startReceive parts', 'parts', except('undefined'), (v) => s().startReceive({ parts: v as number })],
    ['setSegmentBytes', 'segmentBytes', ALL, (v) => s().setSegmentBytes(v as number)],
    ['setReceiveCoalescing', 'enabled', ALL, (v) => s().setReceiveCoalescing(v as boolean)],
    ['onReady', 'callback', except('null'), (v) => s().onReady(v as () => void)],
    ['setRef', 'ref', ALL, (v) => s().setRef(v as boolean)],
  ];
  const createRows: Row[] = [
    ['create options', 'options', except('undefined', 'object'), (v) => UringUdpSocket.create(v as object)],
    ['create family', 'family', except('undefined'), (v) => UringUdpSocket.create({ family: v as 'IPv4' })],
    ['create entries', 'entries', except('undefined'), (v) => UringUdpSocket.create({ entries: v as number })],
    ['create maxInFlight', 'maxInFlight', except('undefined'), (v) => UringUdpSocket.create({ maxInFlight: v as number })],
    ['create sendBufferBytes', 'sendBufferBytes', except('undefined'), (v) => UringUdpSocket.create({ sendBufferBytes: v as number })],
    ['create receiveBufferBytes', 'receiveBufferBytes', except('undefined'), (v) => UringUdpSocket.create({ receiveBufferBytes: v as number })],
    ['create deferTaskRun', 'deferTaskRun', except('undefined'), (v) => UringUdpSocket.create({ deferTaskRun: v as boolean })],
  ];
  const hintRows: Row[] = [
    ['setAffinity', 'cpus', except('array'), (v) => setAffinity(v as number[])], // [1, 2, 3] is a valid list
    ['setAffinity element', 'cpus[0]', ALL, (v) => setAffinity([v as number])],
    ['bindToNode buffer', 'buffer', ALL, (v) => bindToNode(v as Uint8Array, 0)],
    ['bindToNode node', 'node', ALL, (v) => bindToNode(new Uint8Array(8), v as number)],
    ['adviseHugePages', 'buffer', ALL, (v) => adviseHugePages(v as Uint8Array)],
    ['hugePageResidency', 'buffer', ALL, (v) => hugePageResidency(v as Uint8Array)],
    ['allocateHugeBuffer', 'bytes', ALL, (v) => allocateHugeBuffer(v as number)],
  ];

  it('hints (with or without the addon)', () => {
    for (const [what, name, bad, call] of hintRows) for (const b of bad) expectFluxArgumentError(() => call(BAD[b]), name, `${what}(${b})`);
  });

  native('UringUdpSocket.create options', () => {
    for (const [what, name, bad, call] of createRows) {
      for (const b of bad) {
        if (name === 'family' && b === 'null') continue; // covered below: null is refused too
        expectFluxArgumentError(() => call(BAD[b]), name, `${what}(${b})`);
      }
    }
    expectFluxArgumentError(() => UringUdpSocket.create({ family: null as never }), 'family', 'create family(null)');
  });

  native('UringUdpSocket methods', () => {
    const sockets: UringUdpSocket[] = [];
    // A fresh socket per call: a call that wrongly succeeded must not change the next one's outcome.
    const fresh = () => {
      const s = UringUdpSocket.create({ entries: 8, maxInFlight: 4 });
      sockets.push(s);
      return s;
    };
    try {
      for (const [what, name, bad, call] of socketRows(fresh)) {
        for (const b of bad) expectFluxArgumentError(() => call(BAD[b]), name, `${what}(${b})`);
      }
    } finally {
      for (const s of sockets) s.close();
    }
  });

  native('send flags outside SendFlag are refused, and queue nothing', () => {
    const s = UringUdpSocket.create({ entries: 8, maxInFlight: 4 });
    try {
      s.connect('127.0.0.1', 9);
      s.registerBuffers([new Uint8Array(64)]);
      const d = new Uint32Array(DESCRIPTOR_UINT32S);
      for (const flags of [0xff, 4, 0x80000000, SendFlag.COALESCE | 8]) {
        d.set([0, 0, 0, 10, 0, 0, 0, flags]);
        expectFluxArgumentError(() => s.send(d, 1), 'flags', `flags ${flags}`);
        expect(() => s.send(d, 1)).toThrow(new RegExp(`got 0x${(flags >>> 0).toString(16)}`));
      }
      expect(s.stats().sendsInFlight).toBe(0);
      for (const flags of [0, SendFlag.ZERO_COPY, SendFlag.COALESCE]) {
        d.set([0, 0, 0, 10, 0, 0, 0, flags]);
        expect(s.send(d, 1)).toBe(1);
      }
    } finally {
      s.close();
    }
  });
});
