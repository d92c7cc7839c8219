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
import { isMainThread, Worker, workerData } from 'node:worker_threads';
import { FluxError, FluxTypeError, Ring, type RingHandle } from '@flux/ring';

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

/** Starts a worker from `url` (a module file) that will find `rings` and `data` with workerRings(). */
export function startWorker<Data = undefined>(url: URL | string, options: StartWorkerOptions<Data> = {}): Worker {
  const handles: Record<string, RingHandle> = {};
  for (const [name, ring] of Object.entries(options.rings ?? {})) {
    if (!(ring instanceof Ring)) throw new FluxTypeError(`rings.${name} must be a Ring, got ${String(ring)}`);
    handles[name] = ring.handle;
  }
  const envelope: Envelope = { rings: handles, data: options.data };
  const worker = new Worker(url, { ...options.workerOptions, workerData: { [KEY]: envelope } });
  outcomes.set(worker, watchExit(worker)); // from the start: a worker may exit before anyone asks
  return worker;
}

/** A worker started by startWorker() exited with a non-zero code and no error of its own. */
export class WorkerExitError extends FluxError {
  constructor(readonly exitCode: number) {
    super('ERR_FLUX_WORKER_EXIT', `worker exited with code ${exitCode}`);
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
export function workerRings<Data = unknown>(): { rings: Record<string, Ring>; data: Data } {
  const envelope = (workerData as Record<string, Envelope> | null)?.[KEY];
  if (isMainThread || envelope === undefined) {
    throw new FluxTypeError('workerRings() is for a worker started by startWorker(): this thread has no rings from it');
  }
  const rings: Record<string, Ring> = {};
  for (const [name, handle] of Object.entries(envelope.rings)) rings[name] = Ring.attach(handle);
  return { rings, data: envelope.data as Data };
}

/**
 * Resolves when the worker exits with code 0; rejects with its error (or its exit code)
 * otherwise. For a worker from startWorker() this holds even if it exited before the call;
 * any other Worker is watched from the call on.
 */
export function exited(worker: Worker): Promise<void> {
  let outcome = outcomes.get(worker);
  if (outcome === undefined) {
    outcome = watchExit(worker);
    outcomes.set(worker, outcome);
  }
  return outcome;
}
