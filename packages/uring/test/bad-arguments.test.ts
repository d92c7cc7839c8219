import { describe, expect, it } from 'vitest';
import { adviseHugePages, allocateHugeBuffer, bindToNode, capability, DESCRIPTOR_UINT32S, setAffinity, UringUdpSocket } from '../src/index.js';
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
    expect(() => s.bind('127.0.0.1', 1.5)).toThrow(RangeError);
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
    s.close();
    expect(() => s.send(d, 1)).toThrow(/the socket is closed/);
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
    expect(() => setAffinity([-1])).toThrow(capability().source === 'native' ? /cpus\[0\] must be a CPU number/ : /./);
    if (capability().source !== 'native') return;
    expect(() => setAffinity([])).toThrow(/at least one CPU/);
    expect(() => bindToNode(new Uint8Array(8), 64)).toThrow(/node must be a NUMA node number from 0 to 63, got 64/);
    expect(() => adviseHugePages('x' as unknown as Uint8Array)).toThrow(TypeError);
    expect(() => allocateHugeBuffer(0)).toThrow(/bytes must be an integer from 1/);
  });
});
