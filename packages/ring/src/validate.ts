/**
 * Argument checks every Flux package uses: one copy, one wording, one error kind per fault.
 *
 *   wrong kind of value (a string for a number, 1.5 for an integer, null for an object)
 *       -> FluxTypeError  "<name> must be <what>, got <value>"
 *   right kind, outside the bounds (a port of 70000, a NaN, an Infinity)
 *       -> FluxRangeError "<name> must be <what>, got <value>"
 *
 * Every message names the argument and shows the value as `describe` prints it, so a log
 * line alone says what was passed. These run on setup paths and on `offer()`; each is a
 * few type checks, no allocation unless it throws.
 */

import { FluxAbortError, FluxRangeError, FluxTypeError } from './errors.js';

/** A value as an error message shows it: strings quoted, objects by their kind, never `[object Object]`. */
export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value);
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'function') return `a function${value.name ? ` (${value.name})` : ''}`;
  if (value === null || typeof value !== 'object') return String(value);
  if (Array.isArray(value)) return `an array (length ${value.length})`;
  if (ArrayBuffer.isView(value)) return `a ${value.constructor.name} (${value.byteLength} bytes)`;
  if (value instanceof ArrayBuffer) return `an ArrayBuffer (${value.byteLength} bytes)`;
  if (typeof SharedArrayBuffer !== 'undefined' && value instanceof SharedArrayBuffer) {
    return `a SharedArrayBuffer (${value.byteLength} bytes)`;
  }
  let name: unknown;
  try {
    name = (value as { constructor?: { name?: unknown } }).constructor?.name;
  } catch {
    name = undefined; // a getter that throws: describe never does
  }
  return typeof name === 'string' && name !== '' && name !== 'Object' ? `a ${name}` : 'an object';
}

/** An integer in [min, max]: a non-number or a fraction is a type error, out of bounds (NaN included) a range error. */
export function requireInteger(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number') throw new FluxTypeError(`${name} must be an integer, got ${describe(value)}`);
  if (Number.isNaN(value) || !Number.isFinite(value)) {
    throw new FluxRangeError(`${name} must be an integer from ${min} to ${max}, got ${describe(value)}`);
  }
  if (!Number.isInteger(value)) throw new FluxTypeError(`${name} must be an integer, got ${describe(value)}`);
  if (value < min || value > max) {
    throw new FluxRangeError(`${name} must be an integer from ${min} to ${max}, got ${describe(value)}`);
  }
  return value;
}

/**
 * Throws the error requireInteger gives for `value` (for hot paths that test a value with
 * one cheap comparison and call this only when it fails). If requireInteger would accept
 * the value, the caller's own bound failed: a range error all the same.
 */
export function rejectInteger(name: string, value: unknown, min: number, max: number): never {
  requireInteger(name, value, min, max);
  throw new FluxRangeError(`${name} must be an integer from ${min} to ${max}, got ${describe(value)}`);
}

/** `undefined` gives `fallback`; anything else must pass requireInteger. */
export function optionalInteger(name: string, value: unknown, fallback: number, min: number, max: number): number {
  return value === undefined ? fallback : requireInteger(name, value, min, max);
}

/** A finite number in [min, max] (fractions allowed). */
export function requireNumber(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number') throw new FluxTypeError(`${name} must be a number, got ${describe(value)}`);
  if (!(value >= min && value <= max)) {
    // NaN fails both comparisons and lands here too.
    throw new FluxRangeError(`${name} must be a number from ${min} to ${max}, got ${describe(value)}`);
  }
  return value;
}

/** `undefined` gives `fallback`; anything else (null included) must pass requireNumber. */
export function optionalNumber(name: string, value: unknown, fallback: number, min: number, max: number): number {
  return value === undefined ? fallback : requireNumber(name, value, min, max);
}

/** A finite number greater than 0. */
export function requirePositive(name: string, value: unknown): number {
  if (typeof value !== 'number') throw new FluxTypeError(`${name} must be a number, got ${describe(value)}`);
  if (!Number.isFinite(value) || value <= 0) {
    throw new FluxRangeError(`${name} must be a positive number, got ${describe(value)}`);
  }
  return value;
}

/** A finite number of at least 0. */
export function requireNonNegative(name: string, value: unknown): number {
  if (typeof value !== 'number') throw new FluxTypeError(`${name} must be a number, got ${describe(value)}`);
  if (!Number.isFinite(value) || value < 0) {
    throw new FluxRangeError(`${name} must be a number of at least 0, got ${describe(value)}`);
  }
  return value;
}

/**
 * A timeout in milliseconds: a number of at least 0, `Infinity` allowed (wait for ever);
 * NaN and negatives are range errors, anything not a number a type error.
 */
export function requireTimeout(name: string, value: unknown): number {
  if (typeof value !== 'number') throw new FluxTypeError(`${name} must be a number of milliseconds, got ${describe(value)}`);
  if (!(value >= 0)) {
    // NaN fails the comparison and lands here too.
    throw new FluxRangeError(`${name} must be a number of milliseconds of at least 0 (Infinity allowed), got ${describe(value)}`);
  }
  return value;
}

/** `undefined` gives `fallback`; anything else must pass requireTimeout. */
export function optionalTimeout(name: string, value: unknown, fallback: number): number {
  return value === undefined ? fallback : requireTimeout(name, value);
}

/** An AbortSignal, or `undefined`. */
export function optionalSignal(name: string, value: unknown): AbortSignal | undefined {
  if (value === undefined || value instanceof AbortSignal) return value;
  throw new FluxTypeError(`${name} must be an AbortSignal, got ${describe(value)}`);
}

/** A boolean, or `fallback` for `undefined`. */
export function optionalBoolean(name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new FluxTypeError(`${name} must be true or false, got ${describe(value)}`);
  return value;
}

/** One of `choices`, or `fallback` for `undefined` (null is not undefined: it is refused). */
export function optionalChoice<T extends string>(name: string, value: unknown, choices: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !(choices as readonly string[]).includes(value)) {
    throw new FluxTypeError(`${name} must be one of ${choices.map((c) => `'${c}'`).join(', ')}, got ${describe(value)}`);
  }
  return value as T;
}

/** A non-empty string. */
export function requireString(name: string, value: unknown): string {
  if (typeof value !== 'string') throw new FluxTypeError(`${name} must be a string, got ${describe(value)}`);
  if (value.length === 0) throw new FluxRangeError(`${name} must not be empty`);
  return value;
}

/** A function (handlers, callbacks). */
export function requireFunction<F extends (...args: never[]) => unknown>(name: string, value: unknown): F {
  if (typeof value !== 'function') throw new FluxTypeError(`${name} must be a function, got ${describe(value)}`);
  return value as F;
}

/**
 * An options bag: `undefined` gives `{}`; anything that is not a plain object (null, an
 * array, a number, a string) is a type error, so `open(5)` does not read as `open({})`.
 */
export function optionsObject<T extends object>(name: string, value: T | undefined): Partial<T> {
  if (value === undefined) return NO_OPTIONS as Partial<T>; // shared and frozen: no allocation per call (waits pass none)
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new FluxTypeError(`${name} must be an object, got ${describe(value)}`);
  }
  return value;
}

const NO_OPTIONS: Readonly<Record<string, never>> = Object.freeze({});

/** A required options object: as optionsObject, but `undefined` is refused too. */
export function requireObject<T extends object>(name: string, value: T | undefined): T {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new FluxTypeError(`${name} must be an object, got ${describe(value)}`);
  }
  return value;
}

/**
 * A message: a Uint8Array (a Buffer is one). Anything else, a string, an ArrayBuffer, a
 * Uint16Array, an array of numbers, would be written as something other than what the
 * caller meant (zero bytes, the low byte of each element, nothing), so it is refused.
 * Encode first: `new TextEncoder().encode(text)`, `new Uint8Array(arrayBuffer)`,
 * `new Uint8Array(typed.buffer, typed.byteOffset, typed.byteLength)`.
 */
export function requireBytes(name: string, value: unknown): Uint8Array {
  if (value instanceof Uint8Array) return value;
  // A Uint8Array from another realm (a vm context) fails instanceof; its toStringTag still says what it is.
  if (ArrayBuffer.isView(value) && Object.prototype.toString.call(value) === '[object Uint8Array]') return value as Uint8Array;
  throw new FluxTypeError(
    `${name} must be a Uint8Array (or Buffer), got ${describe(value)}` +
      (typeof value === 'string' ? '; encode it first (new TextEncoder().encode(text))' : '') +
      (value instanceof ArrayBuffer || ArrayBuffer.isView(value) ? '; wrap its bytes in a Uint8Array' : ''),
  );
}

/** What an async wait (flush, connected, close) takes: a timeout in ms, as before, or `{ timeoutMs, signal }`. */
export interface WaitOptions {
  /** How long to wait, in ms; each call names its default and range. */
  timeoutMs?: number;
  /** Aborting it rejects the call with a FluxAbortError (name 'AbortError'). */
  signal?: AbortSignal;
}

/** A wait's options from a number (the timeout), undefined, or a WaitOptions object; `name` is the number's name. */
export function waitOptions(
  name: string,
  value: unknown,
  fallbackMs: number,
  minMs = 0,
  maxMs = Infinity,
): { timeoutMs: number; signal: AbortSignal | undefined } {
  if (value === undefined || typeof value === 'number') return { timeoutMs: optionalNumber(name, value, fallbackMs, minMs, maxMs), signal: undefined };
  const plain = typeof value === 'object' && value !== null && [Object.prototype, null].includes(Object.getPrototypeOf(value));
  if (!plain) throw new FluxTypeError(`${name} must be a number or { timeoutMs, signal }, got ${describe(value)}`);
  const options = value as WaitOptions;
  return { timeoutMs: optionalNumber(`${name}`, options.timeoutMs, fallbackMs, minMs, maxMs), signal: optionalSignal('signal', options.signal) };
}

/** Throws a FluxAbortError naming `what` when `signal` is aborted. */
export function throwIfAborted(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted) throw new FluxAbortError(what, signal);
}

export { checkEncoded, optionalCodec } from './codec.js';
