import { describe as group, expect, it } from 'vitest';
import {
  capability,
  DESCRIPTOR_UINT32S,
  RECORD_INT32S,
  RECORD_KIND_OFFSET,
  RECORD_RECV_START_OFFSET,
  RecordKind,
  SendFlag,
  SenderAddressReader,
  UringUdpSocket,
} from '../src/index.js';
import { describe, pollUntil } from './helpers.js';

// These run the real io_uring path; on a machine where it is not usable they say why and
// skip (CI's machines have it: kernel 6.18, io_uring_disabled = 0).
const cap = capability();
const native = cap.usable ? it : it.skip;
if (!cap.usable) console.warn(`@flux/uring native tests skipped: ${cap.reason}`);

function pair(options: { parts?: number; partBytes?: number; maxInFlight?: number; deferTaskRun?: boolean } = {}) {
  const rx = UringUdpSocket.create({ deferTaskRun: options.deferTaskRun });
  const { port } = rx.bind('127.0.0.1', 0);
  const area = rx.startReceive({ parts: options.parts ?? 256, partBytes: options.partBytes ?? 2048 });
  const tx = UringUdpSocket.create({ maxInFlight: options.maxInFlight, deferTaskRun: options.deferTaskRun });
  tx.connect('127.0.0.1', port);
  return { rx, tx, area, port };
}

function pattern(length: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = (i * 31 + seed) & 0xff;
  return bytes;
}

group('capability', () => {
  it('reports usable or a reason, never both', () => {
    expect(typeof cap.usable).toBe('boolean');
    if (cap.usable) expect(cap.reason).toBe('');
    else expect(cap.reason.length).toBeGreaterThan(0);
  });

  native('names the operations the socket uses as present', () => {
    const ops = cap.operations;
    expect([ops.send, ops.sendmsg, ops.recvmsg, ops.multishotReceive, ops.providedBufferRings, ops.registeredBuffers]).toEqual([
      true,
      true,
      true,
      true,
      true,
      true,
    ]);
    expect(cap.source).toBe('native');
    expect(cap.kernelRelease).toMatch(/^\d+\.\d+/);
  });
});

group('UringUdpSocket over loopback', () => {
  for (const deferTaskRun of [true, false]) {
    native(`sends a batch with one call and receives every datagram intact (deferTaskRun ${deferTaskRun})`, () => {
      const { rx, tx, area } = pair({ deferTaskRun });
      const count = 200;
      const source = new Uint8Array(count * 100);
      for (let i = 0; i < count; i++) source.set(pattern(20 + (i % 80), i), i * 100);
      tx.registerBuffers([source]);
      const descriptors = new Uint32Array(count * DESCRIPTOR_UINT32S);
      for (let i = 0; i < count; i++) describe(descriptors, i, 1000 + i, [0, i * 100, 20 + (i % 80)]);
      expect(tx.send(descriptors, count)).toBe(count);
      const seen = pollUntil([tx, rx], (sends, recvs) => sends[0].length === count && recvs[1].length === count);
      expect(seen.sends[0].sort((a, b) => a - b)).toEqual(Array.from({ length: count }, (_, i) => 1000 + i));
      expect(seen.sendResults[0].every((bytes, k) => bytes === 20 + ((seen.sends[0][k] - 1000) % 80))).toBe(true);
      seen.recvs[1].forEach((r, i) => {
        expect(r.truncated).toBe(false);
        expect(area.bytes.slice(r.offset, r.offset + r.length)).toEqual(pattern(20 + (i % 80), i));
      });
      expect(seen.errors).toEqual([]);
      expect(tx.close().clean).toBe(true);
      expect(rx.close().clean).toBe(true);
    });
  }

  for (const coalescing of [false, true]) {
    native(`coalesces equal-length datagrams into GSO sends, one record per datagram (receive coalescing ${coalescing})`, () => {
      const rx = UringUdpSocket.create();
      const { port } = rx.bind('127.0.0.1', 0);
      if (coalescing) rx.setReceiveCoalescing(true);
      const area = rx.startReceive({ parts: 256, partBytes: coalescing ? 66_000 : 2048 });
      const tx = UringUdpSocket.create();
      tx.connect('127.0.0.1', port);
      // Runs that must split: 100 of 1,000 B (over 64 segments and 65,000 B), a shorter one
      // that ends a run, one without the flag, a two-part one, then 10 more of 1,000 B.
      const lengths = [...new Array(100).fill(1000), 600, 1000, 1000, 1000, ...new Array(10).fill(1000)];
      const count = lengths.length;
      const source = new Uint8Array(count * 1024);
      lengths.forEach((length, i) => {
        source.set(pattern(length, i), i * 1024);
      });
      tx.registerBuffers([source]);
      const descriptors = new Uint32Array(count * DESCRIPTOR_UINT32S);
      lengths.forEach((length, i) => {
        if (i === 102) describe(descriptors, i, i, [0, i * 1024, 500], [0, i * 1024 + 500, 500], SendFlag.COALESCE);
        else describe(descriptors, i, i, [0, i * 1024, length], [0, 0, 0], i === 101 ? 0 : SendFlag.COALESCE);
      });
      expect(tx.send(descriptors, count)).toBe(count);
      const seen = pollUntil([tx, rx], (sends, recvs) => sends[0].length === count && recvs[1].length === count);
      expect(seen.sends[0].slice().sort((a, b) => a - b)).toEqual(Array.from({ length: count }, (_, i) => i));
      seen.sends[0].forEach((token, k) => {
        expect(seen.sendResults[0][k]).toBe(lengths[token]);
      });
      expect(seen.recvs[1].length).toBe(count);
      seen.recvs[1].forEach((r, i) => {
        expect(r.truncated).toBe(false);
        expect(area.bytes.slice(r.offset, r.offset + r.length)).toEqual(pattern(lengths[i], i));
      });
      expect(seen.errors).toEqual([]);
      // Runs: 64 (the segment limit), 36 + the shorter 600, then 11 after the two singles.
      expect(tx.stats()).toMatchObject({ coalescedSends: 3, coalescedDatagrams: 64 + 37 + 11 });
      if (coalescing) expect(rx.stats().receiveCoalesced).toBeGreaterThan(0);
      expect(tx.close().clean).toBe(true);
      expect(rx.close().clean).toBe(true);
    });
  }

  for (const [family, loopback] of [
    ['IPv4', '127.0.0.1'],
    ['IPv6', '::1'],
  ] as const) {
    native(`names each datagram's sender from its part, and answers each by sendTo (${family}, GRO receive)`, () => {
      const rx = UringUdpSocket.create({ family, receiveBufferBytes: 65_536 });
      expect(rx.bufferSizes().receiveBufferBytes).toBe(2 * 65_536); // Linux reports twice what it granted
      const { port } = rx.bind(loopback, 0);
      rx.setReceiveCoalescing(true);
      const area = rx.startReceive({ parts: 64, partBytes: 66_000 });
      const senders = [0, 1].map(() => {
        const tx = UringUdpSocket.create({ family });
        tx.bind(loopback, 0);
        tx.connect(loopback, port);
        const txArea = tx.startReceive({ parts: 8, partBytes: 2048 });
        return { tx, txArea, port: tx.address().port };
      });
      // Each sender: a GSO run of 8 datagrams, so the receiver may get them coalesced in one part.
      const source = new Uint8Array(8 * 100);
      for (let i = 0; i < 8; i++) source.set(pattern(100, i), i * 100);
      const descriptors = new Uint32Array(8 * DESCRIPTOR_UINT32S);
      for (let i = 0; i < 8; i++) describe(descriptors, i, i, [0, i * 100, 100], [0, 0, 0], SendFlag.COALESCE);
      for (const { tx } of senders) {
        tx.registerBuffers([source]);
        expect(tx.send(descriptors, 8)).toBe(8);
      }
      const seen = pollUntil([rx, ...senders.map((s) => s.tx)], (_sends, recvs) => recvs[0].length === 16);
      const reader = new SenderAddressReader(area.bytes, area.partBytes);
      const ports = seen.recvs[0].map((r) => {
        reader.read(r.offset);
        expect([reader.address, reader.family]).toEqual([loopback, family]);
        return reader.port;
      });
      expect(new Set(ports)).toEqual(new Set(senders.map((s) => s.port)));
      expect(ports.filter((p) => p === senders[0].port).length).toBe(8);
      // Answer each sender on its own port: a connected socket takes only its peer's datagrams.
      const answer = pattern(40, 9);
      for (const s of senders) expect(rx.sendTo(answer, 40, loopback, s.port)).toBe(40);
      const back = pollUntil(
        senders.map((s) => s.tx),
        (_sends, recvs) => recvs.every((r) => r.length === 1),
      );
      senders.forEach((s, k) => {
        const r = back.recvs[k][0];
        expect(s.txArea.bytes.slice(r.offset, r.offset + r.length)).toEqual(answer);
      });
      expect(rx.sendTo(answer, 40, loopback, 0)).toBeLessThan(0); // port 0: EINVAL, as -errno
      expect(() => rx.sendTo(answer, 41, loopback, 1)).toThrow(/lengthBytes must be/);
      for (const s of senders) s.tx.close();
      rx.close();
    });
  }

  native('sends a datagram gathered from two registered buffers (header + payload)', () => {
    const { rx, tx, area } = pair();
    const header = pattern(16, 1);
    const payload = pattern(1000, 2);
    tx.registerBuffers([header, payload]);
    const descriptors = new Uint32Array(DESCRIPTOR_UINT32S);
    describe(descriptors, 0, 7, [0, 0, 16], [1, 0, 1000]);
    expect(tx.send(descriptors, 1)).toBe(1);
    const seen = pollUntil([tx, rx], (sends, recvs) => sends[0].length === 1 && recvs[1].length === 1);
    const r = seen.recvs[1][0];
    expect(r.length).toBe(1016);
    expect(area.bytes.slice(r.offset, r.offset + 16)).toEqual(header);
    expect(area.bytes.slice(r.offset + 16, r.offset + 1016)).toEqual(payload);
    tx.close();
    rx.close();
  });

  native('zero-copy: one completion per send, after the kernel is done with the bytes', () => {
    const { rx, tx, area } = pair({ partBytes: 9000, parts: 64 });
    const source = new Uint8Array(8 * 8192);
    for (let i = 0; i < 8; i++) source.set(pattern(8192, i), i * 8192);
    tx.registerBuffers([source]);
    const descriptors = new Uint32Array(8 * DESCRIPTOR_UINT32S);
    for (let i = 0; i < 8; i++) describe(descriptors, i, i, [0, i * 8192, 8192], undefined, SendFlag.ZERO_COPY);
    expect(tx.send(descriptors, 8)).toBe(8);
    const seen = pollUntil([tx, rx], (sends, recvs) => sends[0].length === 8 && recvs[1].length === 8);
    expect(seen.sends[0].sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7]); // once each: the first CQE is not reported
    expect(seen.sendResults[0]).toEqual(new Array(8).fill(8192));
    expect(tx.stats().sendsInFlight).toBe(0);
    seen.recvs[1].forEach((r, i) => {
      expect(area.bytes.slice(r.offset, r.offset + r.length)).toEqual(pattern(8192, i));
    });
    tx.close();
    rx.close();
  });

  native('reports back-pressure as a count when maxInFlight is reached, and frees slots on completion', () => {
    const { rx, tx } = pair({ maxInFlight: 4 });
    tx.registerBuffers([new Uint8Array(64)]);
    const descriptors = new Uint32Array(10 * DESCRIPTOR_UINT32S);
    for (let i = 0; i < 10; i++) describe(descriptors, i, i, [0, 0, 64]);
    expect(tx.send(descriptors, 10)).toBe(4);
    pollUntil([tx], (sends) => sends[0].length === 4);
    expect(tx.stats().sendsInFlight).toBe(0);
    expect(tx.send(descriptors, 10)).toBe(4);
    pollUntil([tx], (sends) => sends[0].length === 4);
    tx.close();
    rx.close();
  });

  native('keeps receiving when more datagrams arrive than parts (re-arms after the kernel runs out)', () => {
    const { rx, tx, area } = pair({ parts: 8 });
    const count = 100;
    const source = new Uint8Array(count * 8);
    for (let i = 0; i < count; i++) new DataView(source.buffer).setUint32(i * 8, i, true);
    tx.registerBuffers([source]);
    const descriptors = new Uint32Array(count * DESCRIPTOR_UINT32S);
    for (let i = 0; i < count; i++) describe(descriptors, i, i, [0, i * 8, 8]);
    expect(tx.send(descriptors, count)).toBe(count);
    const got: number[] = [];
    const view = new DataView(area.bytes.buffer);
    const records = new Int32Array(RECORD_INT32S * 64);
    for (let k = 0; k < 1000 && got.length < count; k++) {
      tx.poll(records);
      const n = rx.poll(records, 10_000_000);
      for (let i = 0; i < n; i++)
        if (records[i * RECORD_INT32S + RECORD_KIND_OFFSET] === RecordKind.RECV)
          got.push(view.getUint32(records[i * RECORD_INT32S + RECORD_RECV_START_OFFSET], true));
    }
    expect(got).toEqual(Array.from({ length: count }, (_, i) => i)); // in order, none lost (they waited in SO_RCVBUF)
    expect(rx.stats().receiveNoBuffers).toBeGreaterThan(0);
    tx.close();
    rx.close();
  });

  native('flags a datagram longer than a part as truncated', () => {
    const { rx, tx, area } = pair({ partBytes: 256, parts: 8 });
    tx.registerBuffers([pattern(1000, 3)]);
    const descriptors = new Uint32Array(DESCRIPTOR_UINT32S);
    describe(descriptors, 0, 0, [0, 0, 1000]);
    tx.send(descriptors, 1);
    const seen = pollUntil([tx, rx], (_, recvs) => recvs[1].length === 1);
    expect(seen.recvs[1][0]).toMatchObject({ truncated: true, length: area.maxPayloadBytes });
    tx.close();
    rx.close();
  });

  native('delivers completions on the event loop through onReady', async () => {
    const { rx, tx } = pair();
    tx.registerBuffers([new Uint8Array(64)]);
    const descriptors = new Uint32Array(5 * DESCRIPTOR_UINT32S);
    for (let i = 0; i < 5; i++) describe(descriptors, i, i, [0, 0, 64]);
    const records = new Int32Array(RECORD_INT32S * 64);
    let received = 0;
    const allArrived = new Promise<void>((resolve) => {
      rx.onReady(() => {
        const n = rx.poll(records);
        for (let i = 0; i < n; i++) if (records[i * RECORD_INT32S + RECORD_KIND_OFFSET] === RecordKind.RECV) received++;
        if (received === 5) resolve();
      });
    });
    expect(tx.send(descriptors, 5)).toBe(5);
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<void>((_, reject) => (timer = setTimeout(() => reject(new Error(`only ${received} of 5 arrived`)), 5000)));
    await Promise.race([allArrived, bound]);
    clearTimeout(timer);
    rx.onReady(null);
    pollUntil([tx], (sends) => sends[0].length === 5);
    expect(received).toBe(5);
    tx.close();
    rx.close();
  });

  native('IPv6 loopback', () => {
    const rx = UringUdpSocket.create({ family: 'IPv6' });
    const { port, family } = rx.bind('::1', 0);
    expect(family).toBe('IPv6');
    const area = rx.startReceive({ parts: 8 });
    const tx = UringUdpSocket.create({ family: 'IPv6' });
    tx.connect('::1', port);
    tx.registerBuffers([pattern(300, 9)]);
    const descriptors = new Uint32Array(DESCRIPTOR_UINT32S);
    describe(descriptors, 0, 0, [0, 0, 300]);
    tx.send(descriptors, 1);
    const seen = pollUntil([tx, rx], (_, recvs) => recvs[1].length === 1);
    const r = seen.recvs[1][0];
    expect(area.bytes.slice(r.offset, r.offset + r.length)).toEqual(pattern(300, 9));
    tx.close();
    rx.close();
  });

  native('a send to a port nobody listens on completes with an error code, not a throw', () => {
    const tx = UringUdpSocket.create();
    tx.connect('127.0.0.1', 9); // discard: nothing bound here
    tx.registerBuffers([new Uint8Array(8)]);
    const descriptors = new Uint32Array(2 * DESCRIPTOR_UINT32S);
    describe(descriptors, 0, 0, [0, 0, 8]);
    describe(descriptors, 1, 1, [0, 0, 8]);
    expect(tx.send(descriptors, 1)).toBe(1);
    pollUntil([tx], (sends) => sends[0].length === 1);
    // The ICMP port-unreachable comes back as ECONNREFUSED on a later send of a connected socket.
    expect(tx.send(descriptors, 1)).toBe(1);
    const seen = pollUntil([tx], (sends) => sends[0].length === 1);
    expect(seen.sendResults[0][0] === 8 || seen.sendResults[0][0] === -111).toBe(true);
    tx.close();
  });
});
