/**
 * The error channel of a publication or a subscription (`onError`), and Node-style system
 * errors for what io_uring reports as a bare errno.
 *
 * What goes through it:
 *   socket errors   Node-style errors (`code`, `errno`, `syscall`, `address`/`port` where
 *                   known), counted first (sendErrors, receiveErrors). With no listener they
 *                   are only counted: UDP's ECONNREFUSED is routine while a peer is not up,
 *                   and must not crash the process.
 *   drop errors     what made a counted drop (a codec's decode error, as a FluxHandlerError):
 *                   to the listeners, or only counted, as socket errors
 *   handler errors  FluxHandlerError (`cause`: what the handler threw). With no listener it
 *                   is rethrown on a later turn of the event loop (setImmediate), an uncaught
 *                   exception as a throwing 'message' listener of a node:dgram socket would
 *                   be; the receive path itself has already gone on, consistent.
 * A listener that throws is reported the same way: rethrown on a later turn, as a
 * FluxHandlerError; the other listeners still run. Every error is also published on the
 * 'flux:error' diagnostics channel as { source, error }, listeners or not.
 */
import { channel } from 'node:diagnostics_channel';
import { getSystemErrorName } from 'node:util';
import { DIAGNOSTICS_CHANNELS, FluxHandlerError } from '@flux/ring';
import { requireFunction } from '@flux/ring/validate';

export type ErrorListener = (error: Error) => void;

const diagnostics = channel(DIAGNOSTICS_CHANNELS.error);

export class ErrorChannel {
  private readonly listeners = new Set<{ listener: ErrorListener }>();
  /** Whose errors these are, as 'flux:error' messages name it (the endpoint's counter-source name). */
  source = '';

  /** Whether anyone listens (errors are then worth building). */
  get listened(): boolean {
    return this.listeners.size > 0;
  }

  /** Adds `listener`; returns a function that removes it (idempotent). */
  add(listener: unknown): () => void {
    const entry = { listener: requireFunction<ErrorListener>('listener', listener) };
    this.listeners.add(entry);
    return () => {
      this.listeners.delete(entry);
    };
  }

  /** A socket error: to the listeners, or nowhere (it was counted). */
  socketError(error: Error): void {
    if (diagnostics.hasSubscribers) diagnostics.publish({ source: this.source, error });
    this.emit(error);
  }

  /**
   * The error behind a counted drop (a message a codec could not decode): to the listeners,
   * or nowhere, as a socket error; a peer's bad bytes must not crash the process.
   */
  droppedError(error: Error): void {
    this.socketError(error);
  }

  /** A handler error: to the listeners, or rethrown on a later turn when there are none. */
  handlerError(error: FluxHandlerError): void {
    if (diagnostics.hasSubscribers) diagnostics.publish({ source: this.source, error });
    if (this.listeners.size === 0) rethrowLater(error);
    else this.emit(error);
  }

  private emit(error: Error): void {
    for (const { listener } of [...this.listeners]) {
      try {
        listener(error);
      } catch (thrown) {
        rethrowLater(new FluxHandlerError('an onError listener', thrown));
      }
    }
  }
}

function rethrowLater(error: Error): void {
  setImmediate(() => {
    throw error;
  });
}

/** A Node-style system error for `errno` (positive or negative, as io_uring reports it). */
export function systemError(errno: number, syscall: string, address?: string, port?: number): NodeJS.ErrnoException & { address?: string; port?: number } {
  const negative = -Math.abs(errno);
  let code: string;
  try {
    code = getSystemErrorName(negative);
  } catch {
    code = 'EUNKNOWN';
  }
  const where = address !== undefined ? ` ${address}${port !== undefined ? `:${port}` : ''}` : '';
  const error = new Error(`${syscall} ${code}${where}`) as NodeJS.ErrnoException & { address?: string; port?: number };
  error.code = code;
  error.errno = negative;
  error.syscall = syscall;
  if (address !== undefined) error.address = address;
  if (port !== undefined) error.port = port;
  return error;
}

/** Adds the peer to a Node error that lacks it (a connected socket's errors name none). */
export function withPeer<E extends Error>(error: E, address: string, port: number): E {
  const e = error as E & { address?: string; port?: number };
  try {
    if (e.address === undefined) e.address = address;
    if (e.port === undefined) e.port = port;
  } catch {
    // a frozen error: leave it as it is
  }
  return error;
}
