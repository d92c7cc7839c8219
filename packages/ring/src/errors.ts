/**
 * Every error a Flux package throws or rejects with is a FluxError: one hierarchy, one
 * `code` to switch on. Back-pressure is never an error (it is a return value: codes.ts),
 * and neither is anything the network does (a bad datagram is a counted drop).
 *
 *   FluxError                       `instanceof FluxError` holds for every class below
 *   ├── FluxRangeError   (also a RangeError)  ERR_FLUX_OUT_OF_RANGE      a value outside what the call takes
 *   ├── FluxTypeError    (also a TypeError)   ERR_FLUX_INVALID_TYPE      a value of the wrong kind, or a call in the wrong place
 *   ├── ConsumerRemovedError                  ERR_FLUX_CONSUMER_REMOVED  a ring consumer used after removeConsumer()
 *   ├── UringUnavailableError (@flux/uring)   ERR_FLUX_URING_UNAVAILABLE io_uring asked for where it is not usable; `reason`
 *   ├── WorkerExitError       (@flux/sdk)     ERR_FLUX_WORKER_EXIT       a worker exited with a non-zero code; `exitCode`
 *   ├── FluxTimeoutError                      ERR_FLUX_TIMEOUT           a setup step (a socket's bind) did not finish in time
 *   ├── FluxAbortError   (name 'AbortError')  ABORT_ERR                  an async call's { signal } was aborted; `cause` is its reason
 *   ├── FluxInternalError                     ERR_FLUX_INTERNAL          a broken invariant: a bug to report
 *   ├── FluxHandlerError                      ERR_FLUX_HANDLER           a user handler threw while Flux called it; `cause`
 *   ├── JournalCorruptError  (@flux/journal)  ERR_FLUX_JOURNAL_CORRUPT   a journal file damaged where no crash explains it; `path`, `offsetBytes`
 *   └── (thrown by @flux/uring's native code, as FluxError by brand and code)
 *                                             ERR_FLUX_INVALID_STATE     a native socket used out of its life cycle (closed, twice)
 *                                             ERR_FLUX_UNSUPPORTED       this runtime lacks what the call needs
 *
 * Argument errors stay RangeError and TypeError, so code that catches those keeps working;
 * FluxError's own `instanceof` also recognises them. It checks a brand registered with
 * Symbol.for, not the prototype chain, so errors from two installed copies of a Flux
 * package (two versions in one node_modules tree) are still recognised by either.
 *
 * System errors (a bind's EADDRINUSE, an io_uring_setup's ENOMEM) are not wrapped: they
 * arrive as Node reports them, with `code` (the errno name), `errno` and `syscall`, from
 * node:dgram and from @flux/uring's native code alike.
 */

/** Marks a Flux error; registered globally so every copy of this module shares it. */
const FLUX_ERROR = Symbol.for('@flux/error');

export type FluxErrorCode =
  | 'ERR_FLUX_OUT_OF_RANGE'
  | 'ERR_FLUX_INVALID_TYPE'
  | 'ERR_FLUX_CONSUMER_REMOVED'
  | 'ERR_FLUX_URING_UNAVAILABLE'
  | 'ERR_FLUX_WORKER_EXIT'
  | 'ERR_FLUX_TIMEOUT'
  | 'ABORT_ERR'
  | 'ERR_FLUX_INVALID_STATE'
  | 'ERR_FLUX_UNSUPPORTED'
  | 'ERR_FLUX_INTERNAL'
  | 'ERR_FLUX_HANDLER'
  | 'ERR_FLUX_JOURNAL_CORRUPT';

/** What every Flux error has, whichever built-in class it extends. */
export interface FluxErrorLike extends Error {
  readonly code: FluxErrorCode;
}

/** True for an error thrown by any Flux package (any copy of it). */
export function isFluxError(value: unknown): value is FluxErrorLike {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[FLUX_ERROR] === true;
}

function brand(error: Error): void {
  Object.defineProperty(error, FLUX_ERROR, { value: true });
}

export class FluxError extends Error {
  readonly code: FluxErrorCode;

  constructor(code: FluxErrorCode, message: string) {
    super(message);
    this.code = code;
    this.name = new.target.name;
    brand(this);
  }

  /** `error instanceof FluxError` holds for every Flux error, FluxRangeError and FluxTypeError included. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    if (this === FluxError) return isFluxError(value);
    return Function.prototype[Symbol.hasInstance].call(this, value); // subclasses: the prototype chain, as usual
  }
}

export class FluxRangeError extends RangeError {
  readonly code = 'ERR_FLUX_OUT_OF_RANGE' as const;

  constructor(message: string) {
    super(message);
    this.name = 'FluxRangeError';
    brand(this);
  }
}

export class FluxTypeError extends TypeError {
  readonly code = 'ERR_FLUX_INVALID_TYPE' as const;

  /** `options.cause`: what a refused value made a callee throw (a codec's JSON.stringify). */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'FluxTypeError';
    brand(this);
  }
}

export class ConsumerRemovedError extends FluxError {
  constructor(readonly consumerId: number) {
    super('ERR_FLUX_CONSUMER_REMOVED', `consumer ${consumerId} was removed from the ring; it may no longer read or release`);
  }
}

export class FluxTimeoutError extends FluxError {
  constructor(message: string) {
    super('ERR_FLUX_TIMEOUT', message);
  }
}

/**
 * An async call stopped because its `signal` was aborted: Node's idiom (name 'AbortError',
 * code 'ABORT_ERR', the signal's reason as `cause`), so `error.name === 'AbortError'` checks
 * written for Node's own APIs hold.
 */
export class FluxAbortError extends FluxError {
  constructor(what: string, signal: AbortSignal) {
    super('ABORT_ERR', `${what} was aborted`);
    this.name = 'AbortError';
    this.cause = signal.reason;
  }
}

export class FluxInternalError extends FluxError {
  constructor(message: string) {
    super('ERR_FLUX_INTERNAL', `${message} (a bug: please report it)`);
  }
}

/**
 * A handler the application gave Flux (a message handler, an event listener) threw. The
 * receive path that called it caught it, went on with the next message, and hands it to the
 * owner's error listeners; `cause` is what the handler threw, `where` which handler it was.
 */
export class FluxHandlerError extends FluxError {
  override readonly cause: unknown;

  constructor(
    readonly where: string,
    cause: unknown,
  ) {
    super('ERR_FLUX_HANDLER', `${where} threw: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.cause = cause;
  }
}
