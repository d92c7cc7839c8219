/**
 * diagnostics_channel: 'flux:endpoint' says when each endpoint opens and closes (once),
 * 'flux:error' carries every error an endpoint reports, with its source, whether or not
 * onError listens.
 */
import { spawnSync } from 'node:child_process';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { fileURLToPath } from 'node:url';
import { DIAGNOSTICS_CHANNELS, FluxHandlerError } from '@flux/ring';
import { afterEach, describe, expect, it } from 'vitest';
import { Publication, Subscription } from '../src/index.js';

const seen: { channel: string; message: Record<string, unknown> }[] = [];
const onEndpoint = (message: unknown) => seen.push({ channel: 'endpoint', message: message as Record<string, unknown> });
const onError = (message: unknown) => seen.push({ channel: 'error', message: message as Record<string, unknown> });
afterEach(() => {
  unsubscribe(DIAGNOSTICS_CHANNELS.endpoint, onEndpoint);
  unsubscribe(DIAGNOSTICS_CHANNELS.error, onError);
  seen.length = 0;
});

describe('diagnostics channels', () => {
  it('publish endpoints opening and closing, and a handler error with its source', async () => {
    subscribe(DIAGNOSTICS_CHANNELS.endpoint, onEndpoint);
    subscribe(DIAGNOSTICS_CHANNELS.error, onError);
    const subscription = await Subscription.open({ port: 0, address: '127.0.0.1', backend: 'dgram' });
    subscription.onError(() => {}); // listened: not rethrown, still published
    let thrown = false;
    subscription.onMessage(1, () => {
      thrown = true;
      throw new Error('handler broke');
    });
    const publication = await Publication.open({ host: '127.0.0.1', port: subscription.port, streamId: 1, backend: 'dgram' });
    publication.offer('one');
    expect(await publication.flush(10_000)).toBe(true);
    const deadline = Date.now() + 10_000;
    while (!thrown && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 1));
    await publication.close();
    await publication.close(); // a second close publishes nothing more
    await subscription.close();
    const endpoints = seen
      .filter((entry) => entry.channel === 'endpoint')
      .map((entry) => `${entry.message.type} ${String(entry.message.name).replace(/:\d+/, ':PORT').replace(/#\d+/, '#N')}`);
    expect(endpoints).toEqual([
      'open udp subscription on 127.0.0.1:PORT #N',
      'open udp publication to 127.0.0.1:PORT stream 1 #N',
      'close udp publication to 127.0.0.1:PORT stream 1 #N',
      'close udp subscription on 127.0.0.1:PORT #N',
    ]);
    const errors = seen.filter((entry) => entry.channel === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0].message.source).toBe(`udp subscription on 127.0.0.1:${subscription.port}`);
    expect(errors[0].message.error).toBeInstanceOf(FluxHandlerError);
  });

  it('NODE_DEBUG=flux prints every endpoint open and close and every error as a line on stderr; without it, nothing', () => {
    const child = fileURLToPath(new URL('./children/debug-log.mjs', import.meta.url));
    const run = (nodeDebug: string | undefined) =>
      spawnSync(process.execPath, [child], { encoding: 'utf8', timeout: 20_000, env: { ...process.env, NODE_DEBUG: nodeDebug } });
    const debugged = run('flux');
    expect(debugged.stdout.trim()).toBe('delivered');
    const lines = debugged.stderr.split('\n').filter((line) => /^FLUX \d+: /.test(line));
    const text = lines.map((line) =>
      line
        .replace(/^FLUX \d+: /, '')
        .replace(/:\d+/g, ':PORT')
        .replace(/ #\d+$/, ' #N'),
    );
    expect(text).toContain('open udp subscription on 127.0.0.1:PORT #N');
    expect(text).toContain('open udp publication to 127.0.0.1:PORT stream 1 #N');
    expect(text).toContain('error from udp subscription on 127.0.0.1:PORT: FluxHandlerError: the onMessage handler of stream 1 threw: handler broke');
    expect(text).toContain('close udp publication to 127.0.0.1:PORT stream 1 #N');
    expect(text).toContain('close udp subscription on 127.0.0.1:PORT #N');
    const quiet = run(undefined);
    expect(quiet.stdout.trim()).toBe('delivered');
    expect(quiet.stderr).not.toMatch(/^FLUX \d+: /m);
  });
});
