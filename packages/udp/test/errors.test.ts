/**
 * The error channel (onError) and what flush() says, on each backend: send errors reach the
 * application Node-style and are counted the same way; nobody listening is not a crash;
 * flush() does not report success for messages lost to send errors; a throwing handler
 * neither loses nor repeats a message and does not stop the receive path.
 */
import { execFileSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { describe, expect, it } from 'vitest';
import { FluxHandlerError, isFluxError } from '@flux/ring';
import { capability } from '@flux/uring';
import type { Backend } from '../src/backend.js';
import { Publication } from '../src/publication.js';
import { Subscription } from '../src/subscription.js';
import { closedAfterEach, until } from './support.js';

const open = closedAfterEach();

/** A UDP port on 127.0.0.1 nothing listens on (bound, read, closed). */
async function closedPort(): Promise<number> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

/**
 * Offers one message and flushes, until a flush resolves false (a send error was counted)
 * or `attempts` rounds went by; the kernel reports the peer's ICMP refusal of one datagram
 * on a later operation, so the first flush may still be true. Returns the flush results.
 */
async function sendUntilRefused(pub: Publication, attempts = 50): Promise<boolean[]> {
  const results: boolean[] = [];
  for (let i = 0; i < attempts; i++) {
    pub.offer(new Uint8Array([i]));
    const ok = await pub.flush(5000);
    results.push(ok);
    if (!ok) break;
    await new Promise((resolve) => setTimeout(resolve, 2)); // room for the ICMP answer to come back
  }
  return results;
}

const uringUsable = capability().usable;
const backends: Backend[] = ['io_uring', 'dgram'];

describe.each(backends)('errors, %s backend', (backend) => {
  if (backend === 'io_uring' && !uringUsable) {
    it.skip(`io_uring is not usable here: ${capability().reason}`, () => {});
    return;
  }

  async function publication(port: number) {
    const pub = await Publication.open({ host: '127.0.0.1', port, streamId: 1, backend });
    open.push(pub);
    expect(pub.backend).toBe(backend);
    return pub;
  }

  async function subscription(options: { port?: number } = {}) {
    const sub = await Subscription.open({ port: options.port ?? 0, address: '127.0.0.1', backend });
    open.push(sub);
    expect(sub.backend).toBe(backend);
    return sub;
  }

  it('reports ECONNREFUSED to onError Node-style, counts it, and flush() resolves false; later flushes recover', async () => {
    const port = await closedPort();
    const pub = await publication(port);
    const errors: Error[] = [];
    const remove = pub.onError((error) => errors.push(error));
    const results = await sendUntilRefused(pub);
    expect(results.at(-1)).toBe(false);
    expect(errors.length).toBeGreaterThanOrEqual(1);
    expect(errors[0]).toMatchObject({ code: 'ECONNREFUSED', errno: -111, address: '127.0.0.1', port });
    expect(typeof (errors[0] as NodeJS.ErrnoException).syscall).toBe('string');
    expect(isFluxError(errors[0])).toBe(false); // a system error stays Node's
    expect(pub.counters.sendErrors).toBeGreaterThanOrEqual(1);
    expect(pub.counters.messagesLostToSendErrors).toBeGreaterThanOrEqual(1);
    expect(pub.counters.sendErrors).toBe(errors.length); // every counted failure was reported, once

    // The peer comes up: flushes say true again (a loss is reported by the flushes around it, not forever).
    const sub = await subscription({ port });
    const got: number[] = [];
    sub.onMessage(1, (bytes, offset) => got.push(bytes[offset]));
    let ok = false;
    for (let i = 0; i < 50 && !ok; i++) {
      pub.offer(new Uint8Array([200]));
      ok = (await pub.flush(5000)) && got.length > 0;
      if (!ok) await new Promise((resolve) => setTimeout(resolve, 2));
    }
    expect(ok).toBe(true);

    remove();
    remove(); // removing twice is harmless
    const before = errors.length;
    await sub.close();
    await sendUntilRefused(pub);
    expect(errors.length).toBe(before); // the removed listener hears nothing
  });

  it('without a listener a send error is only counted: no crash, flush() still says false', async () => {
    const pub = await publication(await closedPort());
    const results = await sendUntilRefused(pub);
    expect(results.at(-1)).toBe(false);
    expect(pub.counters.sendErrors).toBeGreaterThanOrEqual(1);
  });

  it('a listener that throws does not stop the others or the sender', async () => {
    const pub = await publication(await closedPort());
    const seen: string[] = [];
    const uncaught: unknown[] = [];
    // The throw is rethrown on a later turn; catch it here so vitest does not count it.
    const catcher = (error: unknown) => uncaught.push(error);
    const listeners = process.listeners('uncaughtException');
    process.removeAllListeners('uncaughtException');
    process.on('uncaughtException', catcher);
    try {
      pub.onError(() => {
        throw new Error('listener bug');
      });
      pub.onError((error) => seen.push((error as NodeJS.ErrnoException).code!));
      await sendUntilRefused(pub);
      await until(() => uncaught.length > 0, 'the listener error, rethrown', 5000);
    } finally {
      process.off('uncaughtException', catcher);
      for (const listener of listeners) process.on('uncaughtException', listener);
    }
    expect(seen[0]).toBe('ECONNREFUSED');
    expect(uncaught[0]).toBeInstanceOf(FluxHandlerError);
    expect((uncaught[0] as FluxHandlerError).cause).toMatchObject({ message: 'listener bug' });
  });

  it('a throwing handler: every message delivered once, the error to onError, handlerErrors counted', async () => {
    const sub = await subscription();
    const calls: number[] = [];
    const errors: Error[] = [];
    sub.onError((error) => errors.push(error));
    sub.onMessage(1, (bytes, offset) => {
      calls.push(bytes[offset]);
      if (bytes[offset] % 3 === 0) throw new RangeError(`bad ${bytes[offset]}`);
    });
    const pub = await publication(sub.port);
    for (let i = 0; i < 30; i++) pub.offer(new Uint8Array([i, 1, 2, 3])); // many to a datagram
    expect(await pub.flush()).toBe(true);
    await until(() => calls.length >= 30, 'every message at the handler');
    expect(calls).toEqual(Array.from({ length: 30 }, (_, i) => i)); // in order, none lost, none repeated
    expect(sub.counters.handlerErrors).toBe(10);
    expect(sub.counters.messagesReceived).toBe(30);
    expect(errors).toHaveLength(10);
    expect(errors[0]).toBeInstanceOf(FluxHandlerError);
    expect(errors[0]).toMatchObject({ code: 'ERR_FLUX_HANDLER', where: 'the onMessage handler of stream 1' });
    expect((errors[0] as FluxHandlerError).cause).toBeInstanceOf(RangeError);
    expect((errors[1] as FluxHandlerError).cause).toMatchObject({ message: 'bad 3' });
  });

  it('with no error listener, a handler error is rethrown on a later turn; the subscription goes on (child process)', () => {
    const output = execFileSync(process.execPath, [new URL('./children/handler-throws.mjs', import.meta.url).pathname, backend], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    const report = JSON.parse(output.trim().split('\n').pop()!);
    expect(report.backend).toBe(backend);
    expect(report.calls).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(report.uncaught).toHaveLength(4); // messages 0, 5, 10, 15
    expect(report.uncaught[0]).toEqual({ name: 'FluxHandlerError', code: 'ERR_FLUX_HANDLER', cause: 'boom 0', sync: false });
    expect(report.counters).toMatchObject({ handlerErrors: 4, messagesReceived: 20 });
  });
});
