/**
 * A UDP socket on io_uring (see native/src/udp_socket.h for the contract):
 *
 *   registerBuffers([a, b])      once: the kernel may read these; they stay alive until close()
 *   send(descriptors, count)     a batch of datagrams, one io_uring_enter; returns how many were
 *                                accepted (fewer = back-pressure: poll and retry)
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
import { capability } from './capability.js';
import { UringUnavailableError } from './errors.js';
import { loadNative, type NativeAddress, type NativeSocketStats, type NativeUdpSocket } from './native.js';

export interface UringSocketOptions {
  family?: 'IPv4' | 'IPv6';
  /** Submission queue entries (default 256; a power of two from 8 to 32,768). */
  entries?: number;
  /** Sends accepted and not yet completed (default 1,024). */
  maxInFlight?: number;
  /** SO_SNDBUF; the kernel may round or cap it. */
  sendBufferBytes?: number;
  /** SO_RCVBUF; the kernel may cap it at net.core.rmem_max. */
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
}

function positiveInteger(name: string, value: number | undefined, fallback: number, max: number): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < 1 || v > max) throw new FluxRangeError(`${name} must be an integer from 1 to ${max}, got ${String(value)}`);
  return v;
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
  static create(options: UringSocketOptions = {}): UringUdpSocket {
    const family = options.family ?? 'IPv4';
    if (family !== 'IPv4' && family !== 'IPv6') throw new FluxTypeError(`family must be 'IPv4' or 'IPv6', got ${String(family)}`);
    const entries = positiveInteger('entries', options.entries, 256, 32768);
    if ((entries & (entries - 1)) !== 0 || entries < 8) throw new FluxRangeError(`entries must be a power of two from 8 to 32768, got ${entries}`);
    const maxInFlight = positiveInteger('maxInFlight', options.maxInFlight, 1024, 65536);
    const cap = capability();
    const { binding } = loadNative();
    if (!cap.usable || !binding) throw new UringUnavailableError(cap.reason);
    const native = new binding.UringUdpSocket(
      family === 'IPv6' ? 6 : 4,
      entries,
      maxInFlight,
      options.sendBufferBytes,
      options.receiveBufferBytes,
      options.deferTaskRun ?? true,
    );
    return new UringUdpSocket(native, family);
  }

  bind(address: string, port = 0): NativeAddress {
    return this.native.bind(address, port);
  }

  connect(address: string, port: number): void {
    this.native.connect(address, port);
  }

  address(): NativeAddress {
    return this.native.localAddress();
  }

  /** Registers the buffers sends are described in (once per socket); kept alive until close(). */
  registerBuffers(buffers: ArrayBufferView[]): void {
    this.native.registerBuffers(buffers);
  }

  /** Queues and submits `count` datagrams (8 uint32s each); returns how many were accepted. */
  send(descriptors: Uint32Array, count: number): number {
    return this.native.send(descriptors, count);
  }

  /** Writes completion records (4 int32s each) into `records`; returns how many. */
  poll(records: Int32Array, waitNs = 0): number {
    return this.native.poll(records, waitNs);
  }

  /**
   * Starts a multishot receive into a new SharedArrayBuffer of parts x partBytes (lent to
   * the kernel, given back part by part by poll()).
   */
  startReceive(options: ReceiveOptions = {}): ReceiveArea {
    const partBytes = positiveInteger('partBytes', options.partBytes, 2048, 1 << 20);
    const parts = positiveInteger('parts', options.parts, 256, 32768);
    if ((parts & (parts - 1)) !== 0) throw new FluxRangeError(`parts must be a power of two, got ${parts}`);
    const bytes = new Uint8Array(new SharedArrayBuffer(partBytes * parts));
    const payloadOffset = this.native.startReceive(bytes, partBytes, parts);
    return { bytes, payloadOffset, maxPayloadBytes: partBytes - payloadOffset };
  }

  /** UDP_SEGMENT (GSO): a send longer than segmentBytes leaves as datagrams of that size (0: off). */
  setSegmentBytes(segmentBytes: number): void {
    this.native.setSegmentBytes(segmentBytes);
  }

  /** UDP_GRO: the kernel may coalesce received datagrams; poll() splits them again. Before startReceive. */
  setReceiveCoalescing(enabled: boolean): void {
    this.native.setReceiveCoalescing(enabled);
  }

  /** Calls `callback` on the event loop when completions are ready (null: stop). */
  onReady(callback: (() => void) | null): void {
    this.native.onReady(callback);
  }

  /** Whether a watching onReady keeps the process alive (default true). */
  setRef(ref: boolean): void {
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
