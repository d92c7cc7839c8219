/**
 * The ring files in a directory, as `flux rings` prints them: for each, its geometry, where
 * its producers and consumers are, and which processes hold it (alive or gone). Read from
 * the files themselves (Ring.open), nothing remembered elsewhere.
 */
import { RING_DIRECTORY, Ring, type RingHolder, ringFiles, sequenceDiff } from '@flux/ring';

export interface RingFileReport {
  path: string;
  /** Empty when the file is an intact ring; otherwise why it could not be read as one. */
  error: string;
  capacity?: number;
  maxMessageBytes?: number;
  producerMode?: string;
  /** Newest published sequence. */
  cursor?: number;
  /** Threads (of any process) asleep in a wait on it now. */
  sleepers?: number;
  consumers?: { id: number; sequence: number; lag: number; pid?: number; alive?: boolean }[];
  holders?: RingHolder[];
}

/** Where a ring's producers and consumers are now: its cursor, sleepers, and each active consumer's sequence and lag. */
export function ringPositions(ring: Ring): { cursor: number; sleepers: number; consumers: { id: number; sequence: number; lag: number }[] } {
  const cursor = ring.cursor();
  const consumers = ring.activeConsumers().map((id) => {
    const sequence = ring.consumerSequence(id);
    return { id, sequence, lag: sequenceDiff(cursor, sequence) };
  });
  return { cursor, sleepers: ring.sleepers(), consumers };
}

/** Every `flux-ring.*` file in `directory` (default /dev/shm). */
export function ringReport(directory: string = RING_DIRECTORY): RingFileReport[] {
  return ringFiles(directory).map((path) => {
    let ring: Ring;
    try {
      ring = Ring.open({ path });
    } catch (error) {
      return { path, error: error instanceof Error ? error.message : String(error) };
    }
    const { cursor, sleepers, consumers } = ringPositions(ring);
    return {
      path,
      error: '',
      capacity: ring.capacity,
      maxMessageBytes: ring.maxMessageBytes,
      producerMode: ring.producerMode,
      cursor,
      sleepers,
      consumers: consumers.map((consumer) => ({ ...consumer, ...ring.consumerOwner(consumer.id) })),
      holders: ring.holders(),
    };
  });
}

export function formatRings(reports: RingFileReport[]): string {
  if (reports.length === 0) return 'no ring files';
  return reports
    .map((r) => {
      if (r.error) return `${r.path}\n  not readable as a ring: ${r.error}`;
      const consumers = (r.consumers ?? []).map(
        (c) =>
          `  consumer ${c.id}: at ${c.sequence}, ${c.lag} behind${c.pid === undefined ? ', not opened yet' : `, process ${c.pid} ${c.alive ? 'alive' : 'GONE'}`}`,
      );
      const holders = (r.holders ?? []).map((h) => `${h.role} ${h.pid} ${h.alive ? 'alive' : 'gone'}`).join(', ');
      return [
        r.path,
        `  ${r.producerMode} producer, ${r.capacity} x ${r.maxMessageBytes} B, cursor ${r.cursor}, ${r.sleepers} asleep`,
        ...consumers,
        `  held by: ${holders || 'nobody recorded'}`,
      ].join('\n');
    })
    .join('\n');
}
