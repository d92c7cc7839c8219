/**
 * Flux's diagnostics_channel names, in one place. Publishing costs nothing while no one
 * subscribes (each site checks `hasSubscribers` first). Subscribe with
 * `diagnostics_channel.subscribe(name, (message) => ...)`:
 *
 *   flux:endpoint          { type: 'open' | 'close', name }   every publication and subscription
 *                                                             (udp, reliable, hot), as it opens
 *                                                             and closes; `name` is the one its
 *                                                             counters carry (flux stat)
 *   flux:error             { source, error }                  every socket and handler error an
 *                                                             endpoint reports, listened to by
 *                                                             onError or not (it was counted)
 *   flux:reliable:session  { source, event }                  a reliable subscription's session
 *                                                             events: begin, gap, end, timeout,
 *                                                             failed (ReliableEvent)
 *
 * NODE_DEBUG=flux (util.debuglog) prints the same events as lines on stderr, subscribed
 * here once when the process starts with it; without it nothing subscribes, and publishing
 * stays free.
 */
import { channel, subscribe } from 'node:diagnostics_channel';
import { debuglog } from 'node:util';

export const DIAGNOSTICS_CHANNELS = {
  endpoint: 'flux:endpoint',
  error: 'flux:error',
  reliableSession: 'flux:reliable:session',
} as const;

export const endpointChannel = channel(DIAGNOSTICS_CHANNELS.endpoint);
export const errorChannel = channel(DIAGNOSTICS_CHANNELS.error);
export const reliableSessionChannel = channel(DIAGNOSTICS_CHANNELS.reliableSession);

const debug = debuglog('flux');
if (debug.enabled) {
  subscribe(DIAGNOSTICS_CHANNELS.endpoint, (message) => {
    const { type, name } = message as { type: string; name: string };
    debug('%s %s', type, name);
  });
  subscribe(DIAGNOSTICS_CHANNELS.error, (message) => {
    const { source, error } = message as { source: string; error: Error };
    debug('error from %s: %s', source, error instanceof Error ? `${error.name}: ${error.message}` : String(error));
  });
  subscribe(DIAGNOSTICS_CHANNELS.reliableSession, (message) => {
    const { source, event } = message as { source: string; event: { type: string } & Record<string, unknown> };
    debug('%s: session %s %o', source, event.type, event);
  });
}
