/**
 * A UDP socket on io_uring (see native/src/udp_socket.h for the contract):
 *
 *   registerBuffers([a, b])      once: the kernel may read these; they stay alive until close()
 *   send(descriptors, count)     a batch of datagrams, one io_uring_enter; returns how many were
 *                                accepted (fewer = back-pressure: poll and retry)
 *   sendTo(bytes, n, addr, port) one datagram to any peer, a plain sendto(2) (rare answers)
 *   poll(records, waitNs?)       completions: SEND (token, bytes or -errno) once the kernel is
 *                                done with the datagram's bytes; RECV (byteOffset, length) into
 *                                the receive buffer, lent until the next poll()
 *   onReady(callback)            calls back on the event loop when completions are ready
 *
 * Two ways to consume completions: poll() in a tight loop on a worker thread (lowest
 * latency, one busy core), or onReady() on the event loop (no busy thread; a wake-up
 * costs tens of microseconds).
 */
import { FluxRangeError, FluxTypeError } from '@flux/ring';
import { describe, optionalBoolean, optionalChoice, optionalInteger, optionsObject, requireInteger, requireString } from '@flux/ring/validate';
import { capability } from './capability.js';
import { UringUnavailableError } from './errors.js';
import { loadNative, type NativeAddress, type NativeBufferSizes, type NativeSocketStats, type NativeUdpSocket } from './native.js';
// Socket buffer sizes (both this package and @flux/udp take them), poll() waits and send() counts: the native bounds.
import { MAX_SEND_COUNT, MAX_SOCKET_BUFFER_BYTES, MAX_WAIT_NS } from './seam-layout.js';

export interface UringSocketOptions {
  family?: 'IPv4' | 'IPv6';
  /** Submission queue entries (default 256; a power of two from 8 to 32,768). */
  entries?: number;
  /** Sends accepted and not yet completed (default 1,024). */
  maxInFlight?: number;
  /** SO_SNDBUF, 0 (the system's default) to 2^30 bytes; the kernel may round or cap it. */
  sendBufferBytes?: number;
  /** SO_RCVBUF, 0 (the system's default) to 2^30 bytes; the kernel may cap it at net.core.rmem_max. */
  receiveBufferBytes?: number;
  /**
   * Post completions only when this thread asks for them (IORING_SETUP_DEFER_TASKRUN, with
   * SINGLE_ISSUER; default true): batches them and spares the thread interruptions
   * (measured: 1.2-1.5x the datagram rate). The socket must then be used only from the
   * thread that created it, which holds for every JavaScript object anyway.
   */
  deferTaskRun?: boolean;
}

export interface ReceiveOptions {
  /** Bytes per receive part: the largest datagram plus the header (default 2,048). */
  partBytes?: number;
  /** Parts lent to the kernel (default 256; a power of two). */
  parts?: number;
}

export interface ReceiveArea {
  /** Where received datagrams land; RECV records give offsets into it. */
  readonly bytes: Uint8Array;
  /** Bytes before each payload in a part (recvmsg header and sender address). */
  readonly payloadOffset: number;
  /** Largest payload a part holds; longer datagrams are reported truncated. */
  readonly maxPayloadBytes: number;
  /** Bytes per part (a datagram's sender is read from its part: SenderAddressReader). */
  readonly partBytes: number;
}

function powerOfTwo(name: string, value: number, min: number, max: number): number {
  if ((value & (value - 1)) !== 0 || value < min) throw new FluxRangeError(`${name} must be a power of two from ${min} to ${max}, got ${value}`);
  return value;
}

function requireUint32Array(name: string, value: unknown): Uint32Array {
  if (!(value instanceof Uint32Array)) throw new FluxTypeError(`${name} must be a Uint32Array, got ${describe(value)}`);
  return value;
}

export class UringUdpSocket {
  readonly family: 'IPv4' | 'IPv6';
  private readonly native: NativeUdpSocket;
  private closed = false;

  private constructor(native: NativeUdpSocket, family: 'IPv4' | 'IPv6') {
    this.native = native;
    this.family = family;
  }

  /** Creates the socket; throws UringUnavailableError (with the reason) where io_uring is not usable. */
  static create(options?: UringSocketOptions): UringUdpSocket {
    const o = optionsObject('options', options);
    const family = optionalChoice('family', o.family, ['IPv4', 'IPv6'] as const, 'IPv4');
    const entries = powerOfTwo('entries', optionalInteger('entries', o.entries, 256, 8, 32768), 8, 32768);
    const maxInFlight = optionalInteger('maxInFlight', o.maxInFlight, 1024, 1, 65536);
    const sendBufferBytes = optionalInteger('sendBufferBytes', o.sendBufferBytes, 0, 0, MAX_SOCKET_BUFFER_BYTES);
    const receiveBufferBytes = optionalInteger('receiveBufferBytes', o.receiveBufferBytes, 0, 0, MAX_SOCKET_BUFFER_BYTES);
    const deferTaskRun = optionalBoolean('deferTaskRun', o.deferTaskRun, true);
    const cap = capability();
    const { binding } = loadNative();
    if (!cap.usable || !binding) throw new UringUnavailableError(cap.reason);
    const native = new binding.UringUdpSocket(family === 'IPv6' ? 6 : 4, entries, maxInFlight, sendBufferBytes, receiveBufferBytes, deferTaskRun);
    return new UringUdpSocket(native, family);
  }

  /** Binds to an IP address of the socket's family (not a host name) and port (0: any free port). */
  bind(address: string, port = 0): NativeAddress {
    return this.native.bind(requireString('address', address), requireInteger('port', port, 0, 65535));
  }

  /** Connects to an IP address of the socket's family (not a host name) and port. */
  connect(address: string, port: number): void {
    this.native.connect(requireString('address', address), requireInteger('port', port, 0, 65535));
  }

  address(): NativeAddress {
    return this.native.localAddress();
  }

  /** SO_SNDBUF and SO_RCVBUF as the kernel reports them (Linux: twice what it granted, capped by net.core.wmem_max / rmem_max). */
  bufferSizes(): NativeBufferSizes {
    return this.native.bufferSizes();
  }

  /** Registers the buffers sends are described in (once per socket); kept alive until close(). */
  registerBuffers(buffers: ArrayBufferView[]): void {
    if (!Array.isArray(buffers)) throw new FluxTypeError(`buffers must be an array of TypedArrays, got ${describe(buffers)}`);
    this.native.registerBuffers(buffers);
  }

  /**
   * Queues and submits `count` datagrams (8 uint32s each); returns how many were accepted.
   * Each descriptor's flags may only combine SendFlag.ZERO_COPY and SendFlag.COALESCE: any
   * other bit is a FluxRangeError, and a bad descriptor queues none of the batch.
   */
  send(descriptors: Uint32Array, count: number): number {
    return this.native.send(requireUint32Array('descriptors', descriptors), requireInteger('count', count, 0, MAX_SEND_COUNT));
  }

  /**
   * Sends one datagram to `address:port` at once, by a plain sendto(2) outside the ring that
   * never waits: for a bound socket's few answers to many peers (a reliable receiver's
   * STATUS and NAK). Returns the bytes sent or -errno (-11, EAGAIN: the socket buffer was
   * full and nothing was sent). `bytes` is read during the call only.
   */
  sendTo(bytes: Uint8Array, lengthBytes: number, address: string, port: number): number {
    if (!(bytes instanceof Uint8Array)) throw new FluxTypeError(`bytes must be a Uint8Array, got ${describe(bytes)}`);
    requireInteger('lengthBytes', lengthBytes, 1, Math.min(65535, bytes.length));
    return this.native.sendTo(bytes, lengthBytes, requireString('address', address), requireInteger('port', port, 0, 65535));
  }

  /** Writes completion records (4 int32s each) into `records`; returns how many. Waits at most `waitNs` (0 to 4e9) for one. */
  poll(records: Int32Array, waitNs = 0): number {
    if (!(records instanceof Int32Array)) throw new FluxTypeError(`records must be an Int32Array, got ${describe(records)}`);
    return this.native.poll(records, requireInteger('waitNs', waitNs, 0, MAX_WAIT_NS));
  }

  /**
   * Starts a multishot receive into a new SharedArrayBuffer of parts x partBytes (lent to
   * the kernel, given back part by part by poll()).
   */
  startReceive(options?: ReceiveOptions): ReceiveArea {
    const o = optionsObject('options', options);
    const partBytes = optionalInteger('partBytes', o.partBytes, 2048, 1, 1 << 20);
    const parts = optionalInteger('parts', o.parts, 256, 1, 32768);
    if ((parts & (parts - 1)) !== 0) throw new FluxRangeError(`parts must be a power of two, got ${parts}`);
    const bytes = new Uint8Array(new SharedArrayBuffer(partBytes * parts));
    const payloadOffset = this.native.startReceive(bytes, partBytes, parts);
    return { bytes, payloadOffset, maxPayloadBytes: partBytes - payloadOffset, partBytes };
  }

  /** UDP_SEGMENT (GSO): a send longer than segmentBytes leaves as datagrams of that size (0: off). */
  setSegmentBytes(segmentBytes: number): void {
    this.native.setSegmentBytes(requireInteger('segmentBytes', segmentBytes, 0, 65535));
  }

  /** UDP_GRO: the kernel may coalesce received datagrams; poll() splits them again. Before startReceive. */
  setReceiveCoalescing(enabled: boolean): void {
    if (typeof enabled !== 'boolean') throw new FluxTypeError(`enabled must be true or false, got ${describe(enabled)}`);
    this.native.setReceiveCoalescing(enabled);
  }

  /** Calls `callback` on the event loop when completions are ready (null: stop). */
  onReady(callback: (() => void) | null): void {
    if (callback !== null && typeof callback !== 'function') throw new FluxTypeError(`callback must be a function or null, got ${describe(callback)}`);
    this.native.onReady(callback);
  }

  /** Whether a watching onReady keeps the process alive (default true). */
  setRef(ref: boolean): void {
    if (typeof ref !== 'boolean') throw new FluxTypeError(`ref must be true or false, got ${describe(ref)}`);
    this.native.setRef(ref);
  }

  stats(): NativeSocketStats {
    return this.native.stats();
  }

  /**
   * Waits (at most two seconds) for everything in flight, then closes. `clean` is false
   * when something was still in flight: its buffers are then kept alive for good.
   */
  close(): { clean: boolean } {
    if (this.closed) return { clean: true };
    this.closed = true;
    return this.native.close();
  }
}
