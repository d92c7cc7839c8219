/**
 * Node's idioms on the endpoints: unref()/ref() (the process may exit with them open, or is
 * held again), `await using` (Symbol.asyncDispose), and `{ signal }` on open, flush and close
 * (rejecting with an AbortError as Node's own APIs do).
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { FluxAbortError, FluxTypeError, isFluxError, NOT_CONNECTED } from '@flux/ring';
import { capability } from '@flux/uring';
import { describe, expect, it } from 'vitest';
import { Publication, Subscription } from '../src/index.js';

const backends = capability().usable ? (['io_uring', 'dgram'] as const) : (['dgram'] as const);
const child = fileURLToPath(new URL('./children/unref.mjs', import.meta.url));

function run(backend: string, mode: string) {
  return spawnSync(process.execPath, [child, backend, mode], { encoding: 'utf8', timeout: 20_000 });
}

function expectAbort(error: unknown, what: string, reason: unknown): void {
  expect(error).toBeInstanceOf(FluxAbortError);
  expect(isFluxError(error)).toBe(true);
  expect(error).toMatchObject({ name: 'AbortError', code: 'ABORT_ERR', message: `${what} was aborted`, cause: reason });
}

describe.each(backends)('%s backend', (backend) => {
  it('unref(): the process exits by itself with a publication and a subscription open', () => {
    const result = run(backend, 'unref');
    expect(result.signal).toBe(null); // not killed by the timeout: it exited on its own
    expect(result.status).toBe(0);
    expect(result.stdout).toContain(`opened on ${backend}`);
  });

  it('ref() after unref(): they hold the process again until closed', () => {
    const result = run(backend, 'ref-again');
    expect(result.status).toBe(0);
    expect(result.stdout.split('\n')).toEqual([`opened on ${backend}`, 'alive', '']);
  });

  it('Symbol.asyncDispose closes (await using)', async () => {
    const subscription = await Subscription.open({ port: 0, address: '127.0.0.1', backend });
    const publication = await Publication.open({ host: '127.0.0.1', port: subscription.port, streamId: 1, backend });
    await publication[Symbol.asyncDispose]();
    await subscription[Symbol.asyncDispose]();
    // Closed: the port is free again.
    const again = await Subscription.open({ port: subscription.port, address: '127.0.0.1', backend });
    await again.close();
  });

  it('{ signal }: open rejects when already aborted; flush and close reject with an AbortError once it aborts', async () => {
    const aborted = AbortSignal.abort('stop');
    await expect(Subscription.open({ port: 0, address: '127.0.0.1', backend, signal: aborted })).rejects.toSatisfy((error) => {
      expectAbort(error, 'Subscription.open()', 'stop');
      return true;
    });
    const subscription = await Subscription.open({ port: 0, address: '127.0.0.1', backend });
    await expect(Publication.open({ host: '127.0.0.1', port: subscription.port, streamId: 1, backend, signal: aborted })).rejects.toBeInstanceOf(
      FluxAbortError,
    );
    const publication = await Publication.open({ host: '127.0.0.1', port: subscription.port, streamId: 1, backend });
    publication.offer(new Uint8Array(8));
    expect(await publication.flush({ timeoutMs: 10_000 })).toBe(true); // the object form without a signal
    const controller = new AbortController();
    const reason = new Error('enough');
    // Pending flushes see the abort on their next turn; nothing else settles them here.
    for (let i = 0; i < 1000; i++) publication.offer(new Uint8Array(8));
    const flushing = publication.flush({ timeoutMs: 60_000, signal: controller.signal });
    controller.abort(reason);
    const flushError = await flushing.catch((error: unknown) => error);
    if (flushError !== true) expectAbort(flushError, 'flush()', reason); // or it finished in the same turn
    const closeError = await publication.close({ signal: AbortSignal.abort(reason) }).catch((error: unknown) => error);
    expectAbort(closeError, 'close()', reason);
    expect(publication.offer(new Uint8Array(8))).toBe(NOT_CONNECTED); // closed all the same
    expect(publication.offer('late')).toBe(NOT_CONNECTED);
    await subscription.close();
  });

  it('rejects a bad wait argument or signal, naming it', async () => {
    const subscription = await Subscription.open({ port: 0, address: '127.0.0.1', backend });
    const publication = await Publication.open({ host: '127.0.0.1', port: subscription.port, streamId: 1, backend });
    await expect(publication.flush('soon' as never)).rejects.toThrow(FluxTypeError);
    await expect(publication.flush({ signal: 5 } as never)).rejects.toThrow(/signal must be an AbortSignal, got 5/);
    await expect(Subscription.open({ port: 0, signal: {} } as never)).rejects.toThrow(/signal must be an AbortSignal/);
    await publication.close();
    await subscription.close();
  });
});
