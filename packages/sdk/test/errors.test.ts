/**
 * One error hierarchy across every package: misuse of each (ring, udp, reliable, uring,
 * its native code, the sdk) rejects or throws a FluxError with a code, and no source file
 * throws a bare Error, RangeError or TypeError.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  capability,
  exited,
  FluxError,
  type FluxErrorCode,
  isFluxError,
  messages,
  Publication,
  ReliablePublication,
  ReliableSubscription,
  Ring,
  startWorker,
  Subscription,
  WorkerExitError,
} from '../src/index.js';
import { UringUdpSocket } from '../src/subpaths/uring.js';

const ROOT = new URL('../../../', import.meta.url).pathname;

async function failure(attempt: () => unknown): Promise<unknown> {
  try {
    await attempt();
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to fail');
}

async function expectFluxError(attempt: () => unknown, code: FluxErrorCode, builtIn: ErrorConstructor): Promise<void> {
  const error = await failure(attempt);
  expect(error).toBeInstanceOf(FluxError);
  expect(error).toBeInstanceOf(builtIn);
  expect(isFluxError(error) && error.code).toBe(code);
}

describe('one error hierarchy', () => {
  it('covers argument errors from every package', async () => {
    await expectFluxError(() => Ring.create({ capacity: 3, maxMessageBytes: 8 }), 'ERR_FLUX_OUT_OF_RANGE', RangeError);
    await expectFluxError(() => Publication.open({ host: '127.0.0.1', port: 9, streamId: -1 }), 'ERR_FLUX_OUT_OF_RANGE', RangeError);
    await expectFluxError(() => Subscription.open({ port: 0, backend: 'fast' as never }), 'ERR_FLUX_INVALID_TYPE', TypeError);
    await expectFluxError(
      () => ReliablePublication.open({ host: '127.0.0.1', port: 9, streamId: 1, fecGroupDatagrams: 99 }),
      'ERR_FLUX_OUT_OF_RANGE',
      RangeError,
    );
    await expectFluxError(() => ReliableSubscription.open({ port: 0, windowBytes: -5 }), 'ERR_FLUX_OUT_OF_RANGE', RangeError);
    await expectFluxError(() => UringUdpSocket.create({ entries: 100 }), 'ERR_FLUX_OUT_OF_RANGE', RangeError);
    await expectFluxError(() => messages(null as never).next(), 'ERR_FLUX_INVALID_TYPE', TypeError);
  });

  it.runIf(capability().usable)('covers the native code: argument and life-cycle errors from C++', async () => {
    const socket = UringUdpSocket.create();
    try {
      await expectFluxError(() => socket.bind('not an address', 0), 'ERR_FLUX_INVALID_TYPE', TypeError);
      await expectFluxError(() => socket.connect('127.0.0.1', 70_000), 'ERR_FLUX_OUT_OF_RANGE', RangeError);
    } finally {
      socket.close();
    }
    await expectFluxError(() => socket.bind('127.0.0.1', 0), 'ERR_FLUX_INVALID_STATE', Error);
  });

  it('covers state errors: io_uring asked for where it is off, a worker that exits non-zero', async () => {
    // The capability report is read once per process: a child with FLUX_URING=0 asks for io_uring.
    const script = `
      import { FluxError, Subscription, UringUnavailableError } from '@flux/sdk';
      try { await Subscription.open({ port: 0, backend: 'io_uring' }); console.log('opened'); }
      catch (e) { console.log(JSON.stringify([e instanceof UringUnavailableError, e instanceof FluxError, e.code, e.reason])); }`;
    const output = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: new URL('..', import.meta.url),
      env: { ...process.env, FLUX_URING: '0' },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(JSON.parse(output)).toEqual([true, true, 'ERR_FLUX_URING_UNAVAILABLE', 'opted out by FLUX_URING=0']);
    const worker = startWorker(new URL('./workers/exit-code.mjs', import.meta.url));
    const error = await failure(() => exited(worker));
    expect(error).toBeInstanceOf(WorkerExitError);
    expect(error).toBeInstanceOf(FluxError);
    expect((error as WorkerExitError).exitCode).toBe(3);
    expect((error as WorkerExitError).code).toBe('ERR_FLUX_WORKER_EXIT');
  });

  it('leaves no bare Error, RangeError or TypeError in any package source or the native code', () => {
    const offenders: string[] = [];
    const sweep = (directory: string, pattern: RegExp, skip: RegExp) => {
      for (const entry of readdirSync(directory, { withFileTypes: true })) {
        const path = join(directory, entry.name);
        if (entry.isDirectory()) sweep(path, pattern, skip);
        else if (!skip.test(entry.name) && pattern.test(readFileSync(path, 'utf8'))) offenders.push(path.slice(ROOT.length));
      }
    };
    let files = 0;
    for (const name of readdirSync(join(ROOT, 'packages'))) {
      const source = join(ROOT, 'packages', name, 'src');
      if (!existsSync(source)) continue; // install-test: a test, no sources
      files += readdirSync(source, { recursive: true }).length;
      sweep(source, /new (Range|Type)?Error\(|reject\(new Error/, /\.test\.ts$|^errors\.ts$|^test-support\.ts$/);
    }
    sweep(join(ROOT, 'packages', 'uring', 'native', 'src'), /Napi::(Range|Type)?Error::New/, /^errors\.h$/);
    expect(files).toBeGreaterThan(50); // the sweep saw the sources
    expect(offenders).toEqual([]);
  });
});
