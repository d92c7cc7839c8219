/**
 * The ring files in a directory, as `flux rings` prints them: for each, its geometry, where
 * its producers and consumers are, and which processes hold it (alive or gone). Read from
 * the files themselves (Ring.open), nothing remembered elsewhere.
 */
import { readdirSync } from 'node:fs';
import { FluxTypeError, RING_DIRECTORY, Ring, sequenceDiff } from '@flux/ring';
import { describe } from '@flux/ring/validate';

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
  holders?: ReturnType<Ring['holders']>;
}

/** Every `flux-ring.*` file in `directory` (default /dev/shm). */
export function ringReport(directory: string = RING_DIRECTORY): RingFileReport[] {
  if (typeof directory !== 'string' || directory.length === 0) throw new FluxTypeError(`directory must be a non-empty string, got ${describe(directory)}`);
  return readdirSync(directory)
    .filter((entry) => entry.startsWith('flux-ring.'))
    .sort()
    .map((entry) => {
      const path = `${directory}/${entry}`;
      let ring: Ring;
      try {
        ring = Ring.open({ path });
      } catch (error) {
        return { path, error: error instanceof Error ? error.message : String(error) };
      }
      const cursor = ring.cursor();
      return {
        path,
        error: '',
        capacity: ring.capacity,
        maxMessageBytes: ring.maxMessageBytes,
        producerMode: ring.producerMode,
        cursor,
        sleepers: ring.sleepers(),
        consumers: ring.activeConsumers().map((id) => {
          const sequence = ring.consumerSequence(id);
          return { id, sequence, lag: sequenceDiff(cursor, sequence), ...ring.consumerOwner(id) };
        }),
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
