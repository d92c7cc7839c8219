export { JOURNAL_DEFAULTS } from './defaults.js';
export { JournalCorruptError } from './errors.js';
export { Journal, JournalClaim, type JournalOptions, type ReaderOptions, type SyncPolicy, type VerifyReport } from './journal.js';
export { JOURNAL_LAYOUT_VERSION, MAX_SEGMENT_BYTES, MIN_SEGMENT_BYTES } from './layout.js';
export { type JournalHandler, JournalReader, type JournalRecord, type RecordsOptions } from './reader.js';
export type { JournalGap, RecoveryReport } from './recovery.js';
