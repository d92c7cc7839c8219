/** MessageQueue on its own: order, copies, the bound, draining, and every way iteration ends. */
import { describe, expect, it } from 'vitest';
import { MessageQueue } from './message-queue.js';

const bytesOf = (value: number) => new Uint8Array([value & 0xff, value >>> 8]);
const firstValue = (bytes: Uint8Array) => bytes[0] | (bytes[1] << 8);

describe('MessageQueue', () => {
  it('yields copies in order, across compactions, whether pushed before or while next() waits', async () => {
    let finished = 0;
    const queue = new MessageQueue({ maxQueuedMessages: 10_000 }, () => finished++);
    const source = new Uint8Array(4);
    for (let i = 0; i < 5_000; i++) {
      source.set(bytesOf(i), 1);
      queue.push(source, 1, 2, 9, 3);
    }
    source.fill(0xff); // the queue holds copies
    const waiting = (async () => {
      const values: number[] = [];
      for await (const { bytes, sessionId, streamId } of queue) {
        expect([sessionId, streamId]).toEqual([9, 3]);
        values.push(firstValue(bytes));
        if (values.length === 5_001) break;
      }
      return values;
    })();
    await new Promise((resolve) => setImmediate(resolve)); // the loop has taken everything and waits
    expect(queue.length).toBe(0);
    queue.push(bytesOf(5_000), 0, 2, 9, 3);
    const values = await waiting;
    expect(values).toEqual(Array.from({ length: 5_001 }, (_, i) => i));
    expect(finished).toBe(1); // the break ran return(): the owner unregistered once
  });

  it('reports full at its bound and calls onDrained when taken down to half', async () => {
    const queue = new MessageQueue({ maxQueuedMessages: 8 }, () => {});
    let drained = 0;
    queue.onDrained = () => drained++;
    for (let i = 0; i < 8; i++) queue.push(bytesOf(i), 0, 2, 1, 1);
    expect(queue.full).toBe(true);
    await queue.next();
    expect(queue.full).toBe(false);
    for (let i = 0; i < 3; i++) await queue.next();
    expect(queue.length).toBe(4);
    expect(drained).toBe(1);
    for (let i = 0; i < 4; i++) await queue.next();
    expect(drained).toBe(1);
  });

  it('after end() yields what is queued, then is done; pushes after it are ignored', async () => {
    let finished = 0;
    const queue = new MessageQueue({}, () => finished++);
    queue.push(bytesOf(1), 0, 2, 1, 1);
    queue.push(bytesOf(2), 0, 2, 1, 1);
    queue.end();
    queue.push(bytesOf(3), 0, 2, 1, 1);
    const values: number[] = [];
    for await (const { bytes } of queue) values.push(firstValue(bytes));
    expect(values).toEqual([1, 2]);
    expect(finished).toBe(1);
    expect(await queue.next()).toEqual({ done: true, value: undefined });
  });

  it('ends a waiting next() on end(), abort and idle timeout, and refuses a second concurrent next()', async () => {
    const ended = new MessageQueue({}, () => {});
    const pending = ended.next();
    await expect(ended.next()).rejects.toThrow(/next\(\) called again/);
    ended.end();
    expect(await pending).toEqual({ done: true, value: undefined });

    const controller = new AbortController();
    const aborted = new MessageQueue({ signal: controller.signal }, () => {});
    aborted.push(bytesOf(1), 0, 2, 1, 1);
    controller.abort(); // abort drops what is queued: the loop asked to stop now
    expect(await aborted.next()).toEqual({ done: true, value: undefined });

    const idle = new MessageQueue({ idleTimeoutMs: 0 }, () => {});
    expect(await idle.next()).toEqual({ done: true, value: undefined });
  });

  it('rejects bad options naming the value', () => {
    expect(() => new MessageQueue({ maxQueuedMessages: 1.5 }, () => {})).toThrow(/maxQueuedMessages must be an integer, got 1.5/);
    expect(() => new MessageQueue({ idleTimeoutMs: Number.NaN }, () => {})).toThrow(/idleTimeoutMs must be a number from 0 to \d+, got NaN/);
  });
});
