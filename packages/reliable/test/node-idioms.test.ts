/**
 * Node's idioms on the reliable endpoints: unref()/ref(), Symbol.asyncDispose, `{ signal }`
 * on open, connected, flush and close (an AbortError, as Node's own APIs reject with), and
 * onEvent listeners that offEvent removes.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { FluxAbortError, NOT_CONNECTED } from '@flux/ring';
import { capability } from '@flux/uring';
import { describe, expect, it } from 'vitest';
import { ReliablePublication, ReliableSubscription } from '../src/index.js';

const backends = capability().usable ? (['io_uring', 'dgram'] as const) : (['dgram'] as const);
const child = fileURLToPath(new URL('./children/unref.mjs', import.meta.url));
const run = (backend: string, mode: string) => spawnSync(process.execPath, [child, backend, mode], { encoding: 'utf8', timeout: 20_000 });

async function abortOf(promise: Promise<unknown>): Promise<FluxAbortError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(FluxAbortError);
  return error as FluxAbortError;
}

describe.each(backends)('%s backend', (backend) => {
  it('unref(): the process exits by itself with a connected session open', () => {
    const result = run(backend, 'unref');
    expect(result.signal).toBe(null); // not killed by the timeout
    expect(result.status).toBe(0);
    expect(result.stdout).toContain(`opened on ${backend}`);
  });

  it('ref() after unref(): they hold the process again until closed', () => {
    const result = run(backend, 'ref-again');
    expect(result.status).toBe(0);
    expect(result.stdout.split('\n')).toEqual([`opened on ${backend}`, 'alive', '']);
  });

  it('connected({ signal }) with nobody answering rejects with an AbortError once aborted; close({ signal }) still closes', async () => {
    const nobody = await ReliableSubscription.open({ port: 0, address: '127.0.0.1', backend });
    const port = nobody.port;
    await nobody.close(); // nothing listens on `port` now
    const publication = await ReliablePublication.open({ host: '127.0.0.1', port, streamId: 1, backend });
    const controller = new AbortController();
    const waiting = publication.connected({ timeoutMs: 60_000, signal: controller.signal });
    controller.abort('user');
    const error = await abortOf(waiting);
    expect(error).toMatchObject({ name: 'AbortError', code: 'ABORT_ERR', message: 'connected() was aborted', cause: 'user' });
    publication.offer('queued, never delivered');
    const closing = new AbortController();
    const closed = publication.close({ timeoutMs: 60_000, signal: closing.signal });
    closing.abort();
    expect((await abortOf(closed)).message).toBe('close() was aborted');
    expect(['ended', 'closed']).toContain(publication.state); // never connected: its end needs no answer
    expect(publication.offer('late')).toBe(NOT_CONNECTED);
    await expect(ReliablePublication.open({ host: '127.0.0.1', port, streamId: 1, backend, signal: AbortSignal.abort() })).rejects.toBeInstanceOf(
      FluxAbortError,
    );
    await expect(ReliableSubscription.open({ port: 0, address: '127.0.0.1', backend, signal: AbortSignal.abort() })).rejects.toBeInstanceOf(FluxAbortError);
  });

  it('offEvent removes a listener; strings arrive as their UTF-8 bytes; asyncDispose closes', async () => {
    const subscription = await ReliableSubscription.open({ port: 0, address: '127.0.0.1', backend });
    const removed: string[] = [];
    const kept: string[] = [];
    const drop = (event: { type: string }) => removed.push(event.type);
    subscription.onEvent(drop).onEvent((event) => kept.push(event.type));
    subscription.offEvent(drop);
    const received: string[] = [];
    subscription.onMessage(1, (bytes, offset, length) => received.push(Buffer.from(bytes.subarray(offset, offset + length)).toString('utf8')));
    const publication = await ReliablePublication.open({ host: '127.0.0.1', port: subscription.port, streamId: 1, backend });
    expect(await publication.connected(10_000)).toBe(true);
    publication.offer('hello, wörld');
    expect(await publication.flush({ timeoutMs: 10_000 })).toBe(true);
    await publication[Symbol.asyncDispose]();
    expect(publication.state).toBe('ended');
    await subscription[Symbol.asyncDispose]();
    expect(received).toEqual(['hello, wörld']);
    expect(kept).toContain('begin');
    expect(removed).toEqual([]);
  });
});

describe.runIf(capability().usable)('hot mode', () => {
  const hotChild = fileURLToPath(new URL('./children/hot-unref.mjs', import.meta.url));
  const runHot = (mode: string) => spawnSync(process.execPath, [hotChild, mode], { encoding: 'utf8', timeout: 30_000 });

  it('unref(): the process exits by itself while both workers run', () => {
    const result = runHot('unref');
    expect(result.signal).toBe(null);
    expect(result.status).toBe(0);
    expect(result.stdout).toBe('opened\n');
  });

  it('ref() after unref(): the workers hold the process again until closed', () => {
    const result = runHot('ref-again');
    expect(result.status).toBe(0);
    expect(result.stdout).toBe('opened\nalive\n');
  });
});
