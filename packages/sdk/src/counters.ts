/**
 * One way to read every counter: `readCounters(x)` takes any Flux object that keeps
 * `counters` (a Publication or Subscription of @flux/udp, a ReliablePublication or
 * ReliableSubscription) and returns one flat snapshot of plain numbers.
 * Counters are plain fields on the thread that owns the object; the snapshot is a copy.
 */
import { FluxTypeError } from '@flux/ring';
import { describe } from '@flux/ring/validate';

interface Snapshotting {
  snapshot(): Record<string, number>;
}

function isSnapshotting(value: unknown): value is Snapshotting {
  return typeof value === 'object' && value !== null && typeof (value as Snapshotting).snapshot === 'function';
}

/** The object's counters (and, for a reliable subscription, its per-message counters too), flat. */
export function readCounters(source: { counters: unknown; messageCounters?: unknown }): Record<string, number> {
  if (source === null || typeof source !== 'object' || !isSnapshotting(source.counters)) {
    throw new FluxTypeError(`source must be a Flux object with counters (a publication or subscription), got ${describe(source)}`);
  }
  const snapshot = { ...source.counters.snapshot() };
  if (isSnapshotting(source.messageCounters)) {
    for (const [name, value] of Object.entries(source.messageCounters.snapshot())) {
      // A name both keep (bytes, say) is reported once per source.
      snapshot[name in snapshot ? `message.${name}` : name] = value;
    }
  }
  return snapshot;
}
