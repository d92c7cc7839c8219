/**
 * @flux/sdk's public surface, name by name: what the root exports is under this package's
 * semver, so adding or removing a name must be a deliberate change made here too. The rest
 * of each package is one import away at @flux/sdk/<package>, whole.
 */
import { describe, expect, it } from 'vitest';
import * as journal from '@flux/journal';
import * as reliable from '@flux/reliable';
import * as ring from '@flux/ring';
import * as udp from '@flux/udp';
import * as uring from '@flux/uring';
import * as sdk from '../src/index.js';
import * as sdkJournal from '../src/subpaths/journal.js';
import * as sdkReliable from '../src/subpaths/reliable.js';
import * as sdkRing from '../src/subpaths/ring.js';
import * as sdkUdp from '../src/subpaths/udp.js';
import * as sdkUring from '../src/subpaths/uring.js';

const PUBLIC = [
  'AsyncWaitStrategy',
  'BACK_PRESSURED',
  'BlockingWaitStrategy',
  'BusySpinWaitStrategy',
  'ClaimUnblocker',
  'ConsumerRemovedError',
  'Counters',
  'DEFAULT_STAT_INTERVAL_MS',
  'DIAGNOSTICS_CHANNELS',
  'DropReason',
  'FluxAbortError',
  'FluxError',
  'FluxHandlerError',
  'FluxInternalError',
  'FluxRangeError',
  'FluxTimeoutError',
  'FluxTypeError',
  'HotReliablePublication',
  'HotReliableSubscription',
  'Journal',
  'JournalCorruptError',
  'JournalReader',
  'NOT_CONNECTED',
  'PROMETHEUS_CONTENT_TYPE',
  'PhasedWaitStrategy',
  'Publication',
  'PublicationCounters',
  'ReceiverCounters',
  'ReliablePublication',
  'ReliableSubscription',
  'Ring',
  'SenderCounters',
  'SharedMemoryUnavailableError',
  'SleepingWaitStrategy',
  'StallDetector',
  'Subscription',
  'SubscriptionCounters',
  'UringUnavailableError',
  'WorkerExitError',
  'YieldingWaitStrategy',
  'adviseHugePages',
  'allocateHugeBuffer',
  'bindToNode',
  'capability',
  'counterSources',
  'exited',
  'exportCounters',
  'formatInfo',
  'formatJournal',
  'formatRecord',
  'formatRings',
  'formatStats',
  'getAffinity',
  'hugePageResidency',
  'info',
  'isFluxError',
  'journalReport',
  'jsonCodec',
  'lastRecords',
  'messages',
  'metricsHandler',
  'numaInfo',
  'prometheusText',
  'readCounters',
  'readMessages',
  'readStats',
  'recordJson',
  'registerCounterSource',
  'registerOpenTelemetryMetrics',
  'removeStaleStats',
  'replayToRing',
  'ringPath',
  'ringReport',
  'setAffinity',
  'startWorker',
  'utf8Codec',
  'workerRings',
];

describe('the public surface', () => {
  it('exports exactly the names listed here (run-time values; types are checked by types.test.ts)', () => {
    expect(Object.keys(sdk).sort()).toEqual([...PUBLIC].sort());
  });

  it('keeps internals out of the root: framing, state machines, sequence arithmetic, the native seam', () => {
    for (const internal of [
      'RingPacker',
      'StreamIterators',
      'MessageQueue',
      'DatagramReader',
      'DatagramWriter',
      'LocalOffer',
      'ErrorChannel',
      'ReliableSender',
      'ReliableReceiver',
      'FrameLayout',
      'ControlLayout',
      'relax',
      'SEQUENCE_MASK',
      'addSequence',
      'UringUdpSocket',
      'RECORD_KIND_OFFSET',
      'openSocket',
      'chooseBackend',
    ]) {
      expect(Object.hasOwn(sdk, internal), internal).toBe(false);
    }
  });

  it('serves each package whole at @flux/sdk/<package>, the same objects', () => {
    const pairs = [
      [sdkRing, ring],
      [sdkUdp, udp],
      [sdkReliable, reliable],
      [sdkUring, uring],
      [sdkJournal, journal],
    ] as const;
    for (const [subpath, pkg] of pairs) {
      expect(Object.keys(subpath).sort()).toEqual(Object.keys(pkg).sort());
      for (const name of Object.keys(pkg)) expect((subpath as Record<string, unknown>)[name], name).toBe((pkg as Record<string, unknown>)[name]);
    }
    // And every root name is the package's own object, not a copy.
    expect(sdk.Ring).toBe(ring.Ring);
    expect(sdk.ReliablePublication).toBe(reliable.ReliablePublication);
    expect(sdk.Journal).toBe(journal.Journal);
  });
});
