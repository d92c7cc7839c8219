/**
 * ChaosRelay: a UDP relay over node:dgram that puts a ChaosLink in each direction, for tests
 * that use real sockets. Clients send to `relay.port`; the relay forwards to the target and
 * returns the target's replies to the client that sent most recently.
 *
 * ```
 *   client ──► clientSocket ──► forward ChaosLink (seed)   ──► targetSocket ──► target
 *   (any)      address:port                                     connected to target
 *   client ◄── clientSocket ◄── backward ChaosLink (seed+1) ◄── targetSocket ◄── target
 *   (most recent sender)
 * ```
 *
 * Time: each link runs on `performance.now()` in whole nanoseconds. Each direction keeps at
 * most one pending wake-up, armed for its link's nextDueNs(): a setTimeout when that is in the
 * future (rounded up to whole milliseconds), a setImmediate when it is already due (so with
 * delay 0 a datagram goes out on the next turn of the event loop). A wake-up that comes early
 * polls nothing and re-arms.
 *
 * Faults never throw out of a socket callback: send errors, socket errors, datagrams the link
 * refuses (longer than maxDatagramBytes) and replies that arrive before any client are
 * counted in `relayCounters`. Sending copies each delivered datagram, because the link reuses
 * its slot as soon as the delivery callback returns while node:dgram sends later; this is test
 * tooling, so that per-datagram copy is accepted.
 */
import { createSocket, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import { Counters, MAX_SOCKET_BUFFER_BYTES } from '@flux/udp';
import { describe, optionalInteger, requireInteger, requireString } from '@flux/ring/validate';
import { ChaosLink, type ChaosCounters } from './chaos-link.js';
import type { ChaosOptions } from './chaos-options.js';
import { FluxTimeoutError, FluxTypeError } from '@flux/ring';

export interface ChaosRelayOptions {
  /** Where forwarded datagrams go. */
  target: { host: string; port: number };
  /** Address the client-facing socket binds to (any free port). Default 127.0.0.1. */
  address?: string;
  /** Impairments on the way to the target. */
  forward: Omit<ChaosOptions, 'seed'>;
  /** Impairments on the way back. Default: none. */
  backward?: Omit<ChaosOptions, 'seed'>;
  /** Seed of the forward link; the backward link uses seed + 1. */
  seed: number;
  /**
   * SO_RCVBUF of both sockets (default 4 MiB; the kernel caps it at net.core.rmem_max).
   * The relay should add only the faults it is given: a small buffer would drop bursts
   * a reliable sender's window allows.
   */
  receiveBufferBytes?: number;
}

export const DEFAULT_RELAY_RECEIVE_BUFFER_BYTES = 4 * 1024 * 1024;

export const DEFAULT_RELAY_ADDRESS = '127.0.0.1';
/** Longest open() waits for its sockets to bind and connect. */
export const OPEN_TIMEOUT_MS = 10_000;
const NS_PER_MS = 1_000_000;

/** Relay faults: each one counted here, never thrown. */
export class RelayCounters extends Counters {
  forwardSendErrors = 0;
  backwardSendErrors = 0;
  /** Datagrams a link refused (push threw, e.g. longer than maxDatagramBytes). */
  forwardRefused = 0;
  backwardRefused = 0;
  /** Replies from the target due before any client had sent anything. */
  backwardWithoutClient = 0;
  /** 'error' events of either socket. */
  socketErrors = 0;
}

function nowNs(): number {
  return Math.round(performance.now() * NS_PER_MS);
}

/** One direction: a link, its single pending wake-up, and where due datagrams go. */
class RelayDirection {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private immediate: ReturnType<typeof setImmediate> | undefined;
  /** Due time the pending wake-up was armed for; undefined when none is pending. */
  private armedDueNs: number | undefined;
  private closed = false;

  constructor(
    readonly link: ChaosLink,
    private readonly deliver: (bytes: Uint8Array, offsetBytes: number, lengthBytes: number) => void,
  ) {}

  /** Arms the wake-up for the link's earliest due copy, unless one at least as early is armed. */
  schedule(): void {
    if (this.closed) return;
    const dueNs = this.link.nextDueNs();
    if (dueNs === undefined || (this.armedDueNs !== undefined && this.armedDueNs <= dueNs)) return;
    this.cancel();
    this.armedDueNs = dueNs;
    const waitNs = dueNs - nowNs();
    if (waitNs <= 0) this.immediate = setImmediate(this.onWake);
    else this.timer = setTimeout(this.onWake, Math.ceil(waitNs / NS_PER_MS));
  }

  close(): void {
    this.closed = true;
    this.cancel();
  }

  private cancel(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    if (this.immediate !== undefined) clearImmediate(this.immediate);
    this.timer = undefined;
    this.immediate = undefined;
    this.armedDueNs = undefined;
  }

  private readonly onWake = (): void => {
    this.timer = undefined;
    this.immediate = undefined;
    this.armedDueNs = undefined;
    if (this.closed) return;
    try {
      this.link.poll(nowNs(), this.deliver);
    } finally {
      this.schedule();
    }
  };
}

function socketTypeOf(host: string): 'udp4' | 'udp6' {
  return isIPv6(host) ? 'udp6' : 'udp4';
}

/** Resolves when `start` calls back, rejects on the socket's 'error' or after OPEN_TIMEOUT_MS. */
function awaitSocket(socket: Socket, what: string, start: (done: () => void) => void): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => finish(new FluxTimeoutError(`${what} took longer than ${OPEN_TIMEOUT_MS} ms`)), OPEN_TIMEOUT_MS);
    const onError = (error: Error) => finish(error);
    function finish(error?: Error): void {
      clearTimeout(timer);
      socket.off('error', onError);
      if (error === undefined) resolve();
      else reject(error);
    }
    socket.once('error', onError);
    start(() => finish());
  });
}

function closeSocket(socket: Socket): Promise<void> {
  return new Promise<void>((resolve) => {
    try {
      socket.close(() => resolve());
    } catch {
      resolve(); // already closed
    }
  });
}

export class ChaosRelay {
  private readonly forward: RelayDirection;
  private readonly backward: RelayDirection;
  private clientAddress: string | undefined;
  private clientPort = 0;
  private closing: Promise<void> | undefined;

  private constructor(
    /** Clients send here. */
    readonly port: number,
    private readonly clientSocket: Socket,
    private readonly targetSocket: Socket,
    forwardLink: ChaosLink,
    backwardLink: ChaosLink,
    /** Relay faults (the links count their own impairments). */
    readonly relayCounters: RelayCounters,
  ) {
    this.forward = new RelayDirection(forwardLink, (bytes, offsetBytes, lengthBytes) => {
      try {
        targetSocket.send(Buffer.from(bytes.subarray(offsetBytes, offsetBytes + lengthBytes)), this.onForwardSent);
      } catch {
        relayCounters.forwardSendErrors++;
      }
    });
    this.backward = new RelayDirection(backwardLink, (bytes, offsetBytes, lengthBytes) => {
      if (this.clientAddress === undefined) {
        relayCounters.backwardWithoutClient++;
        return;
      }
      try {
        const copy = Buffer.from(bytes.subarray(offsetBytes, offsetBytes + lengthBytes));
        clientSocket.send(copy, this.clientPort, this.clientAddress, this.onBackwardSent);
      } catch {
        relayCounters.backwardSendErrors++;
      }
    });
    clientSocket.on('message', this.onClientMessage);
    targetSocket.on('message', this.onTargetMessage);
  }

  /** Binds the client-facing socket, connects one socket to the target, and starts relaying. */
  static async open(options: ChaosRelayOptions): Promise<ChaosRelay> {
    if (typeof options !== 'object' || options === null || Array.isArray(options))
      throw new FluxTypeError(`options must be an object, got ${describe(options)}`);
    const { target } = options;
    if (typeof target !== 'object' || target === null) throw new FluxTypeError(`target must be { host: string; port: number }, got ${describe(target)}`);
    requireString('target.host', target.host);
    requireInteger('target.port', target.port, 1, 65535);
    requireInteger('seed', options.seed, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER - 1); // the backward link's is seed + 1
    const address = options.address === undefined ? DEFAULT_RELAY_ADDRESS : requireString('address', options.address);
    // Both links validate their options here, before any socket is opened.
    const forwardLink = new ChaosLink({ ...options.forward, seed: options.seed });
    const backwardLink = new ChaosLink({ ...(options.backward ?? {}), seed: options.seed + 1 });

    const counters = new RelayCounters();
    const onSocketError = (): void => {
      counters.socketErrors++;
    };
    // Bounded as @flux/udp bounds it: node:dgram throws uncaught inside bind for 2^31 or more.
    const recvBufferSize = optionalInteger('receiveBufferBytes', options.receiveBufferBytes, DEFAULT_RELAY_RECEIVE_BUFFER_BYTES, 1, MAX_SOCKET_BUFFER_BYTES);
    const clientSocket = createSocket({ type: socketTypeOf(address), recvBufferSize });
    const targetType = socketTypeOf(target.host);
    const targetSocket = createSocket({ type: targetType, recvBufferSize });
    clientSocket.on('error', onSocketError);
    targetSocket.on('error', onSocketError);
    try {
      await awaitSocket(clientSocket, `binding ${address}`, (done) => clientSocket.bind(0, address, done));
      const anyAddress = targetType === 'udp6' ? '::' : '0.0.0.0';
      await awaitSocket(targetSocket, 'binding the target socket', (done) => targetSocket.bind(0, anyAddress, done));
      await awaitSocket(targetSocket, `connecting to ${target.host}:${target.port}`, (done) => targetSocket.connect(target.port, target.host, done));
    } catch (error) {
      await Promise.all([closeSocket(clientSocket), closeSocket(targetSocket)]);
      throw error;
    }
    return new ChaosRelay(clientSocket.address().port, clientSocket, targetSocket, forwardLink, backwardLink, counters);
  }

  /** The forward (client to target) link's counters. */
  get forwardCounters(): ChaosCounters {
    return this.forward.link.counters;
  }

  /** The backward (target to client) link's counters. */
  get backwardCounters(): ChaosCounters {
    return this.backward.link.counters;
  }

  /** Cancels wake-ups, drops held datagrams and closes both sockets. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.forward.close();
      this.backward.close();
      this.clientSocket.off('message', this.onClientMessage);
      this.targetSocket.off('message', this.onTargetMessage);
      await Promise.all([closeSocket(this.clientSocket), closeSocket(this.targetSocket)]);
    })();
    return this.closing;
  }

  private readonly onClientMessage = (message: Buffer, sender: { address: string; port: number }): void => {
    this.clientAddress = sender.address;
    this.clientPort = sender.port;
    try {
      this.forward.link.push(message, 0, message.length, nowNs());
    } catch {
      this.relayCounters.forwardRefused++;
      return;
    }
    this.forward.schedule();
  };

  private readonly onTargetMessage = (message: Buffer): void => {
    try {
      this.backward.link.push(message, 0, message.length, nowNs());
    } catch {
      this.relayCounters.backwardRefused++;
      return;
    }
    this.backward.schedule();
  };

  private readonly onForwardSent = (error: Error | null): void => {
    if (error) this.relayCounters.forwardSendErrors++;
  };

  private readonly onBackwardSent = (error: Error | null): void => {
    if (error) this.relayCounters.backwardSendErrors++;
  };
}
