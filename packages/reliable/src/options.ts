/**
 * Option checks shared by the publication and the subscription, the resolution of their
 * options into the protocol's (defaults from defaults.ts, ms into ns), and the clock they
 * read. The virtual-clock simulation (test/simulation.ts) resolves through the same
 * functions, so it runs with what users get unless a test says otherwise.
 */
import { FluxRangeError } from '@flux/ring';
import { optionalChoice, optionalInteger, optionalNumber } from '@flux/ring/validate';
import {
  DEFAULT_CONGESTION_CONTROL,
  DEFAULT_CONGESTION_LOSS_THRESHOLD,
  DEFAULT_FEC_GROUP_DATAGRAMS,
  DEFAULT_HEARTBEAT_MAX_MS,
  DEFAULT_HEARTBEAT_MIN_MS,
  DEFAULT_MAX_DATAGRAM_BYTES,
  DEFAULT_MAX_MESSAGE_BYTES,
  DEFAULT_MAX_NAK_ROUNDS,
  DEFAULT_MAX_RETRANSMIT_BYTES_PER_SECOND,
  DEFAULT_MAX_SESSIONS,
  DEFAULT_NAK_DELAY_MS,
  DEFAULT_NAK_RETRY_MS,
  DEFAULT_ON_GAP,
  DEFAULT_PUBLICATION_LIVENESS_TIMEOUT_MS,
  DEFAULT_RETRANSMIT_BUFFER_DATAGRAMS,
  DEFAULT_RETRANSMIT_POLICY,
  DEFAULT_SETUP_INTERVAL_MS,
  DEFAULT_STATUS_INTERVAL_MS,
  DEFAULT_SUBSCRIPTION_LIVENESS_TIMEOUT_MS,
  DEFAULT_WINDOW_BYTES,
  DEFAULT_WINDOW_DATAGRAMS,
  FAR_DATAGRAMS_SHIFT,
  MAX_INTERVAL_MS,
  MAX_NAK_RETRY_MS,
  MAX_SESSIONS,
  MIN_LINGER_MS,
  MIN_WINDOW_BYTES,
  NS_PER_MS,
  RTT_INTERVAL_MS,
  WINDOW_OF_RECEIVE_BUFFER_SHIFT,
} from './defaults.js';
import { MAX_PARITY_GROUP_DATAGRAMS } from './control-layout.js';
import type { ReliablePublicationOptions } from './publication.js';
import type { ReceiverOptions } from './receiver.js';
import type { SenderOptions } from './sender.js';
import type { ReliableSubscriptionOptions } from './subscription.js';

export { optionalNumber, requireInteger, requireNonNegative, requirePositive } from '@flux/ring/validate';

/** The clock protocol logic is given: monotonic, in ns (a float; sub-µs precision is not needed). */
export function nowNs(): number {
  return performance.now() * NS_PER_MS;
}

/** The publication's options the sender is tuned by. */
export type SenderChoices = Pick<
  ReliablePublicationOptions,
  | 'retransmitBufferDatagrams'
  | 'retransmitPolicy'
  | 'fecGroupDatagrams'
  | 'maxRetransmitBytesPerSecond'
  | 'congestionControl'
  | 'congestionLossThreshold'
  | 'setupIntervalMs'
  | 'heartbeatMinMs'
  | 'heartbeatMaxMs'
  | 'livenessTimeoutMs'
>;

/** What of SenderOptions the publication's options decide (the rest is the session's identity and the MTU's). */
export type SenderTuning = Pick<
  SenderOptions,
  | 'retransmitBufferDatagrams'
  | 'retransmitPolicy'
  | 'fecGroupDatagrams'
  | 'maxRetransmitBytesPerSecond'
  | 'congestionControl'
  | 'congestionLossThreshold'
  | 'timing'
>;

/** Checks the sender's options and applies the defaults; `{}` is what a publication gets by default. */
export function resolveSenderTuning(options: SenderChoices = {}): SenderTuning {
  const tuning = {
    retransmitBufferDatagrams: optionalInteger('retransmitBufferDatagrams', options.retransmitBufferDatagrams, DEFAULT_RETRANSMIT_BUFFER_DATAGRAMS, 2, 1 << 20),
    retransmitPolicy: optionalChoice('retransmitPolicy', options.retransmitPolicy, ['back-pressure', 'overwrite'] as const, DEFAULT_RETRANSMIT_POLICY),
    fecGroupDatagrams: optionalInteger('fecGroupDatagrams', options.fecGroupDatagrams, DEFAULT_FEC_GROUP_DATAGRAMS, 0, MAX_PARITY_GROUP_DATAGRAMS),
    maxRetransmitBytesPerSecond: optionalNumber(
      'maxRetransmitBytesPerSecond',
      options.maxRetransmitBytesPerSecond,
      DEFAULT_MAX_RETRANSMIT_BYTES_PER_SECOND,
      1,
      Number.MAX_SAFE_INTEGER,
    ),
    congestionControl: optionalChoice('congestionControl', options.congestionControl, ['cubic', 'static'] as const, DEFAULT_CONGESTION_CONTROL),
    congestionLossThreshold: optionalNumber('congestionLossThreshold', options.congestionLossThreshold, DEFAULT_CONGESTION_LOSS_THRESHOLD, 0, 0.5),
  };
  const setupIntervalMs = optionalNumber('setupIntervalMs', options.setupIntervalMs, DEFAULT_SETUP_INTERVAL_MS, 0.001, MAX_INTERVAL_MS);
  const heartbeatMinMs = optionalNumber('heartbeatMinMs', options.heartbeatMinMs, DEFAULT_HEARTBEAT_MIN_MS, 0.001, MAX_INTERVAL_MS);
  const heartbeatMaxMs = optionalNumber('heartbeatMaxMs', options.heartbeatMaxMs, DEFAULT_HEARTBEAT_MAX_MS, 0.001, MAX_INTERVAL_MS);
  const livenessTimeoutMs = optionalNumber('livenessTimeoutMs', options.livenessTimeoutMs, DEFAULT_PUBLICATION_LIVENESS_TIMEOUT_MS, 0.001, MAX_INTERVAL_MS);
  if (heartbeatMaxMs < heartbeatMinMs) {
    throw new FluxRangeError(`heartbeatMaxMs must be at least heartbeatMinMs (${heartbeatMinMs}), got ${heartbeatMaxMs}`);
  }
  return {
    ...tuning,
    timing: {
      setupIntervalNs: setupIntervalMs * NS_PER_MS,
      heartbeatMinNs: heartbeatMinMs * NS_PER_MS,
      heartbeatMaxNs: heartbeatMaxMs * NS_PER_MS,
      livenessTimeoutNs: livenessTimeoutMs * NS_PER_MS,
      minLingerNs: MIN_LINGER_MS * NS_PER_MS,
    },
  };
}

/** The subscription's options the receiver (and its DatagramReader) are built from. */
export type ReceiverChoices = Pick<
  ReliableSubscriptionOptions,
  | 'maxMessageBytes'
  | 'maxSessions'
  | 'windowBytes'
  | 'windowDatagrams'
  | 'maxDatagramBytes'
  | 'onGap'
  | 'nakDelayMs'
  | 'nakRetryMs'
  | 'maxNakRounds'
  | 'statusIntervalMs'
  | 'livenessTimeoutMs'
>;

/** A subscription's options resolved: the receiver's, and the reader's largest message. */
export interface ResolvedReceiver {
  maxMessageBytes: number;
  receiver: ReceiverOptions;
}

/** Held beyond the near ring, of a window of `windowDatagrams`. */
export function maxFarDatagramsFor(windowDatagrams: number): number {
  return Math.max(1, windowDatagrams >>> FAR_DATAGRAMS_SHIFT);
}

/** Checks the receiver's options and applies the defaults; `{}` is what a subscription gets by default (before windowWithin). */
export function resolveReceiverOptions(options: ReceiverChoices = {}): ResolvedReceiver {
  const maxMessageBytes = optionalInteger('maxMessageBytes', options.maxMessageBytes, DEFAULT_MAX_MESSAGE_BYTES, 0, 2 ** 30);
  const maxSessions = optionalInteger('maxSessions', options.maxSessions, DEFAULT_MAX_SESSIONS, 1, MAX_SESSIONS);
  const windowBytes = optionalInteger('windowBytes', options.windowBytes, DEFAULT_WINDOW_BYTES, MIN_WINDOW_BYTES, 1 << 30);
  const windowDatagrams = optionalInteger('windowDatagrams', options.windowDatagrams, DEFAULT_WINDOW_DATAGRAMS, 1, 1 << 20);
  const maxDatagramBytes = optionalInteger('maxDatagramBytes', options.maxDatagramBytes, DEFAULT_MAX_DATAGRAM_BYTES, 16, 65_527);
  const onGap = optionalChoice('onGap', options.onGap, ['fail', 'skip'] as const, DEFAULT_ON_GAP);
  const nakDelayMs = optionalNumber('nakDelayMs', options.nakDelayMs, DEFAULT_NAK_DELAY_MS, 0, MAX_INTERVAL_MS);
  const nakRetryMs = optionalNumber('nakRetryMs', options.nakRetryMs, DEFAULT_NAK_RETRY_MS, 0.001, MAX_INTERVAL_MS);
  const maxNakRounds = optionalInteger('maxNakRounds', options.maxNakRounds, DEFAULT_MAX_NAK_ROUNDS, 1, 1_000_000);
  const statusIntervalMs = optionalNumber('statusIntervalMs', options.statusIntervalMs, DEFAULT_STATUS_INTERVAL_MS, 0.001, MAX_INTERVAL_MS);
  const livenessTimeoutMs = optionalNumber('livenessTimeoutMs', options.livenessTimeoutMs, DEFAULT_SUBSCRIPTION_LIVENESS_TIMEOUT_MS, 0.001, MAX_INTERVAL_MS);
  return {
    maxMessageBytes,
    receiver: {
      windowBytes,
      windowDatagrams,
      maxFarDatagrams: maxFarDatagramsFor(windowDatagrams),
      maxDatagramBytes,
      maxSessions,
      onGap,
      maxNakRounds,
      timing: {
        nakDelayNs: nakDelayMs * NS_PER_MS,
        minNakRetryNs: nakRetryMs * NS_PER_MS,
        maxNakRetryNs: MAX_NAK_RETRY_MS * NS_PER_MS,
        statusIntervalNs: statusIntervalMs * NS_PER_MS,
        rttIntervalNs: RTT_INTERVAL_MS * NS_PER_MS,
        livenessTimeoutNs: livenessTimeoutMs * NS_PER_MS,
      },
    },
  };
}

/** The default window cut to what the socket's receive buffer (as Linux reports it: twice what it grants) lets a burst fill. */
export function windowWithin(windowBytes: number, reportedReceiveBufferBytes: number): number {
  return Math.max(MIN_WINDOW_BYTES, Math.min(windowBytes, reportedReceiveBufferBytes >>> WINDOW_OF_RECEIVE_BUFFER_SHIFT));
}
