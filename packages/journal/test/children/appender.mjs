// A writer process for the journal's process tests: appends records tagged (writer, sequence)
// to the journal in argv[2]: argv[4] of them ('forever': until killed), single appends and
// batch claims mixed, then closes (a clean close) and exits.
//   node appender.mjs DIRECTORY WRITER COUNT|forever SEGMENT_BYTES
import '@flux/uring';
import { Journal } from '../../dist/index.js';

const [directory, writerText, countText, segmentText] = process.argv.slice(2);
const writer = Number(writerText);
const count = countText === 'forever' ? Number.POSITIVE_INFINITY : Number(countText);
const journal = Journal.open(directory, { segmentBytes: Number(segmentText) });

function fill(bytes, offset, sequence, length) {
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, length);
  view.setInt32(0, writer, true);
  view.setInt32(4, sequence, true);
  for (let i = 8; i < length; i++) bytes[offset + i] = (writer * 31 + sequence + i) & 0xff;
}

let sequence = 0;
let random = writer * 7919 + 1;
const next = () => (random = (Math.imul(random, 1103515245) + 12345) >>> 0);
const single = new Uint8Array(256);
process.stdout.write('ready\n');
while (sequence < count) {
  const length = 8 + (next() % 120);
  if (next() % 4 === 0) {
    const batch = Math.min(1 + (next() % 32), count - sequence);
    const claim = journal.claim(length, batch);
    for (let i = 0; i < batch; i++) fill(claim.bytes, claim.offsetOf(i), sequence + i, length);
    claim.commit();
    sequence += batch;
  } else {
    fill(single, 0, sequence, length);
    journal.appendBytes(single, 0, length);
    sequence++;
  }
}
journal.close();
