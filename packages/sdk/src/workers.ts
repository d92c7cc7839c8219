/**
 * Worker-thread IPC without the boilerplate: the parent starts a worker with named rings,
 * the worker gets them back attached. Rings travel as their handles (a SharedArrayBuffer
 * and its geometry), so both threads read and write the same memory.
 *
 *   parent:  const worker = startWorker(new URL('./stage.mjs', import.meta.url), { rings: { input, output }, data: { factor: 2 } });
 *   worker:  const { rings: { input, output }, data } = workerRings();
 *
 * The worker is a plain node:worker_threads Worker: await `exited(worker)` (or its
 * 'exit' event) to know it finished, with the error it threw if it threw one.
 */
import { statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMainThread, Worker, workerData } from 'node:worker_threads';
import { FluxError, FluxRangeError, FluxTypeError, Ring, type RingHandle } from '@flux/ring';
import { describe, optionsObject, requireInteger } from '@flux/ring/validate';

/** Where this module keeps the rings in workerData (anything else in workerData is left alone). */
const KEY = '@flux/sdk';

interface Envelope {
  rings: Record<string, RingHandle>;
  data: unknown;
}

export interface StartWorkerOptions<Data> {
  /** Rings the worker attaches, by name. */
  rings?: Record<string, Ring>;
  /** Anything structured-cloneable, passed as is. */
  data?: Data;
  /** Passed to the Worker (execArgv, env, resourceLimits, ...); workerData is taken by the rings. */
  workerOptions?: Omit<ConstructorParameters<typeof Worker>[1] & object, 'workerData'>;
}

/** The file a worker's `url` names, when it names one (not a data: URL, not eval'd code). */
function workerFile(url: URL | string): string | undefined {
  if (url instanceof URL) return url.protocol === 'file:' ? fileURLToPath(url) : undefined;
  // Node refuses any other string itself (a bare name, a 'file:' string): ERR_WORKER_PATH.
  return isAbsolute(url) || url.startsWith('./') || url.startsWith('../') ? resolve(url) : undefined;
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** Node's own argument errors from `new Worker`, as the FluxError naming the argument they are about. */
function workerError(error: unknown): unknown {
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  if ((error as { name?: unknown } | null)?.name === 'DataCloneError') {
    return new FluxTypeError(`data must be structured-cloneable (no functions, no class instances with private state), but: ${message}`);
  }
  if (typeof code !== 'string' || !code.startsWith('ERR_')) return error;
  const about = /^ERR_(WORKER_PATH|WORKER_UNSUPPORTED_EXTENSION|INVALID_URL|INVALID_URL_SCHEME|INVALID_FILE_URL_PATH)$/.test(code) ? 'url' : 'workerOptions';
  return code === 'ERR_OUT_OF_RANGE'
    ? new FluxRangeError(`${about} was refused by new Worker(): ${message}`)
    : new FluxTypeError(`${about} was refused by new Worker(): ${message}`);
}

/**
 * Starts a worker from `url` (a module file: a file: URL, or a path that is absolute or
 * starts with ./ or ../) that will find `rings` and `data` with workerRings(). Every
 * argument is checked first: a missing file, a non-Ring in `rings`, `data` that cannot be
 * structured-cloned or `workerOptions` that Node refuses throw a FluxTypeError or
 * FluxRangeError naming it.
 */
export function startWorker<Data = undefined>(url: URL | string, options?: StartWorkerOptions<Data>): Worker {
  if (!(url instanceof URL) && (typeof url !== 'string' || url.length === 0)) {
    throw new FluxTypeError(`url must be a URL or a path (a non-empty string), got ${describe(url)}`);
  }
  const o = optionsObject('options', options);
  const rings = optionsObject('rings', o.rings);
  const workerOptions = optionsObject('workerOptions', o.workerOptions);
  const handles: Record<string, RingHandle> = {};
  for (const [name, ring] of Object.entries(rings)) {
    if (!(ring instanceof Ring)) throw new FluxTypeError(`rings.${name} must be a Ring, got ${describe(ring)}`);
    handles[name] = ring.handle;
  }
  let file: string | undefined;
  try {
    file = workerOptions.eval === true ? undefined : workerFile(url);
  } catch (error) {
    throw workerError(error); // a file: URL that names no path (file://host/...)
  }
  if (file !== undefined && !isFile(file)) throw new FluxRangeError(`url must name a module file, got ${describe(String(url))} (no such file)`);
  const envelope: Envelope = { rings: handles, data: o.data };
  let worker: Worker;
  try {
    worker = new Worker(url, { ...workerOptions, workerData: { [KEY]: envelope } });
  } catch (error) {
    throw workerError(error);
  }
  outcomes.set(worker, watchExit(worker)); // from the start: a worker may exit before anyone asks
  return worker;
}

/** A worker started by startWorker() exited with a non-zero code and no error of its own. */
export class WorkerExitError extends FluxError {
  constructor(readonly exitCode: number) {
    super('ERR_FLUX_WORKER_EXIT', `worker exited with code ${requireInteger('exitCode', exitCode, -(2 ** 31), 2 ** 32 - 1)}`);
  }
}

/** How each worker started here ended (or will): watched from its start. */
const outcomes = new WeakMap<Worker, Promise<void>>();

function watchExit(worker: Worker): Promise<void> {
  const outcome = new Promise<void>((resolve, reject) => {
    let failure: Error | undefined;
    worker.once('error', (error) => (failure = error));
    worker.once('exit', (code) => {
      if (failure) reject(failure);
      else if (code !== 0) reject(new WorkerExitError(code));
      else resolve();
    });
  });
  outcome.catch(() => {}); // reported to whoever calls exited(), not as an unhandled rejection
  return outcome;
}

/** In a worker started by startWorker(): its rings, attached, and its data. */
export function workerRings<Data = unknown>(): { rings: Record<string, Ring>; data: Data };
/**
 * With the names the worker expects: the rings typed by name (`rings.input` is a Ring), and a
 * FluxRangeError naming any that startWorker() was not given, at once rather than as an
 * `undefined` later. `Data` then comes second: workerRings<'input' | 'output', MyData>([...]).
 */
export function workerRings<const Names extends string, Data = unknown>(names: readonly Names[]): { rings: Record<Names, Ring>; data: Data };
export function workerRings(names?: readonly string[]): { rings: Record<string, Ring>; data: unknown } {
  if (names !== undefined && (!Array.isArray(names) || names.some((name) => typeof name !== 'string'))) {
    throw new FluxTypeError(`names must be an array of ring names (strings), got ${describe(names)}`);
  }
  const envelope: unknown = workerData !== null && typeof workerData === 'object' ? (workerData as Record<string, unknown>)[KEY] : undefined;
  if (isMainThread || envelope === undefined) {
    throw new FluxTypeError('workerRings() is for a worker started by startWorker(): this thread has no rings from it');
  }
  const handles = (envelope as Partial<Envelope> | null)?.rings;
  if (handles === null || typeof handles !== 'object') {
    throw new FluxTypeError(`workerData['${KEY}'] must be what startWorker() put there, got ${describe(envelope)}`);
  }
  const missing = (names ?? []).filter((name) => !Object.hasOwn(handles, name));
  if (missing.length > 0) {
    const given = Object.keys(handles);
    throw new FluxRangeError(
      `workerRings() expected rings ${missing.map((name) => JSON.stringify(name)).join(', ')}, which startWorker() was not given (it gave: ${given.length > 0 ? given.map((name) => JSON.stringify(name)).join(', ') : 'none'})`,
    );
  }
  const rings: Record<string, Ring> = {};
  for (const [name, handle] of Object.entries(handles)) rings[name] = Ring.attach(handle);
  return { rings, data: (envelope as Envelope).data };
}

/**
 * Resolves when the worker exits with code 0; rejects with its error (or its exit code)
 * otherwise. For a worker from startWorker() this holds even if it exited before the call;
 * any other Worker is watched from the call on. Anything but a Worker rejects with a FluxTypeError.
 */
export function exited(worker: Worker): Promise<void> {
  if (!(worker instanceof Worker)) {
    return Promise.reject(new FluxTypeError(`worker must be a Worker (from startWorker()), got ${describe(worker)}`));
  }
  let outcome = outcomes.get(worker);
  if (outcome === undefined) {
    outcome = watchExit(worker);
    outcomes.set(worker, outcome);
  }
  return outcome;
}
