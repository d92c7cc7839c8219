// A journal recorded by one process and replayed by another while it is still being written:
// this process forks a writer that appends 200,000 records (the record's index in 16
// bytes), 100 per claim; once the writer has appended some, this process replays the
// journal from the start and follows the live end until it has every record, checking each
// is there once and in order (the replay merges into the live stream). Then it replays
// again from the middle record's position. Needs @flux/uring's addon (it maps the files).
//
//   node examples/journal.mjs
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Journal } from '@flux/sdk'; // @flux/sdk loads @flux/uring: journals work

const COUNT = 200_000;
const BATCH = 100;

if (process.argv[2] === 'writer') {
  const journal = Journal.open(process.argv[3], { segmentBytes: 1 << 20 });
  for (let written = 0; written < COUNT; written += BATCH) {
    const claim = journal.claim(16, BATCH, 7); // 100 records of 16 bytes, type 7, one CAS
    const view = new DataView(claim.bytes.buffer, claim.bytes.byteOffset);
    for (let i = 0; i < BATCH; i++) view.setFloat64(claim.offsetOf(i), written + i, true);
    claim.commit(); // readers see them now
    if (written === 10 * BATCH) process.send('started');
  }
  journal.close();
} else {
  const directory = join(mkdtempSync(join(tmpdir(), 'flux-example-journal-')), 'orders');
  try {
    Journal.open(directory, { segmentBytes: 1 << 20 }).close(); // made before either process opens it
    const writer = fork(new URL(import.meta.url).pathname, ['writer', directory]);
    await new Promise((resolve) => writer.once('message', resolve));
    const journal = Journal.open(directory, { readOnly: true });
    const controller = new AbortController();
    const timeout = setTimeout(() => controller.abort(), 30_000); // bounded: a writer that stops ends the read
    let received = 0;
    let wrong = 0;
    let middle = -1;
    for await (const record of journal.records({ from: 'start', follow: true, signal: controller.signal })) {
      const index = new DataView(record.payload.buffer, record.payload.byteOffset).getFloat64(0, true);
      if (index !== received || record.type !== 7) wrong++;
      if (received === COUNT / 2) middle = record.position;
      if (++received === COUNT) break;
    }
    clearTimeout(timeout);
    console.log(
      `a writer process appended ${COUNT} records; replayed from the start while it wrote and followed live: ${received}, ${wrong} out of order or wrong`,
    );
    let fromMiddle = 0;
    const reader = journal.reader({ from: middle });
    while (reader.poll(() => fromMiddle++) > 0) {}
    console.log(`replayed from position ${middle} (record ${COUNT / 2}): ${fromMiddle} records`);
    journal.close();
  } finally {
    rmSync(join(directory, '..'), { recursive: true, force: true });
  }
}
