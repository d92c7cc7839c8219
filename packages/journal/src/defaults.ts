/** Every default of @flux/journal, in one place. */
import { DEFAULT_SEGMENT_BYTES } from './layout.js';

export const JOURNAL_DEFAULTS = {
  /** Data bytes per segment file (a power of two, 64 KiB .. 1 GiB). */
  segmentBytes: DEFAULT_SEGMENT_BYTES,
  /** Permissions of the files a journal creates: the owner alone. */
  mode: 0o600,
  /** Records a reader's poll delivers at most, when not told. */
  pollLimit: 2 ** 31 - 1,
  /** Records an async iterator collects per poll. */
  iteratorBatch: 256,
  /** How long an async wait for new records sleeps before it re-checks (a bound, not a timeout: it waits again). */
  followRecheckMs: 1000,
} as const;
