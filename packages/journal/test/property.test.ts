import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';

import { Journal } from '../src/journal.js';
import { recordStrideBytes } from '../src/layout.js';
import { readAll, removeDirectories, scratchDirectory, tagged, tagOf } from './helpers.js';

afterEach(removeDirectories);

const operation = fc.record({
  writer: fc.integer({ min: 0, max: 2 }),
  lengthBytes: fc.integer({ min: 8, max: 3000 }),
  batch: fc.integer({ min: 1, max: 4 }),
});

describe('Journal properties', () => {
  it('any interleaving of appends by several writers replays in append order, the same every time, and from any position exactly the rest', () => {
    fc.assert(
      fc.property(fc.array(operation, { minLength: 1, maxLength: 120 }), fc.nat(), fc.integer({ min: 0, max: 31 }), (operations, pick, inside) => {
        const directory = scratchDirectory();
        const writers = [0, 1, 2].map(() => Journal.open(directory, { segmentBytes: 64 * 1024 }));
        const appended: { position: number; writer: number; sequence: number }[] = [];
        const sequences = [0, 0, 0];
        for (const { writer, lengthBytes, batch: asked } of operations) {
          const batch = Math.max(1, Math.min(asked, Math.floor(8192 / recordStrideBytes(lengthBytes)))); // a batch is at most 1/8 of a segment
          const claim = writers[writer].claim(lengthBytes, batch);
          for (let i = 0; i < batch; i++) {
            claim.bytes.set(tagged(writer, sequences[writer], lengthBytes), claim.offsetOf(i));
            appended.push({ position: claim.position + i * claim.strideBytes, writer, sequence: sequences[writer]++ });
          }
          claim.commit();
        }
        const replay = (from?: number) => readAll(writers[0], from).map((r) => ({ position: r.position, ...tagOf(r.payload) }));
        const first = replay();
        expect(first).toEqual(appended);
        expect(replay()).toEqual(first);
        const p = pick % appended.length;
        expect(replay(appended[p].position)).toEqual(appended.slice(p));
        // A position inside record p (not its first byte): the records after it.
        if (inside > 0) expect(replay(appended[p].position + inside)).toEqual(appended.slice(p + 1));
        for (const journal of writers) journal.close();
      }),
      { numRuns: 40 },
    );
  });
});
