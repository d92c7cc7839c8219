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
 */
import { channel } from 'node:diagnostics_channel';

export const DIAGNOSTICS_CHANNELS = {
  endpoint: 'flux:endpoint',
  error: 'flux:error',
  reliableSession: 'flux:reliable:session',
} as const;

export const endpointChannel = channel(DIAGNOSTICS_CHANNELS.endpoint);
export const errorChannel = channel(DIAGNOSTICS_CHANNELS.error);
export const reliableSessionChannel = channel(DIAGNOSTICS_CHANNELS.reliableSession);
