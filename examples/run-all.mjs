// Runs every example and checks what it prints. `pnpm test` runs this.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { capability } from '@flux/sdk';

const examples = {
  // The README's hello world, verbatim (checked below).
  'hello.mjs': /^hello from a worker thread$/m,
  'quick-start.mjs':
    /^worker -> main thread through a ring: 100000 messages, in order\npublication -> subscription over UDP: 100000 messages, in order, \d+ NAKs$/m,
  'ring-worker-ipc.mjs': /^received 1000000 messages from the worker, 0 out of order or corrupt$/m,
  'udp-two-processes.mjs': /^sent 20000 messages in \d+ datagrams; received 20000, 0 out of order or corrupt, 0 frames lost, 0 dropped$/m,
  'sdk-worker-pipeline.mjs': /^received 200000 squares through 2 workers, 0 wrong$/m,
  'process-ring.mjs': /^received 1048576 messages from another process through \/dev\/shm\/flux-ring\.example-\d+, 0 out of order or corrupt$/m,
  // When the kill lands varies; that nothing published is lost may not.
  'process-ring-recovery.mjs':
    /^the producer process was killed after publishing \d+ messages; taken over from pid the killed child\nreceived \d+ messages, every one once and in order$/m,
  'journal.mjs':
    /^a writer process appended 200000 records; replayed from the start while it wrote and followed live: 200000, 0 out of order or wrong\nreplayed from position \d+ \(record 100000\): 100000 records$/m,
  'codecs.mjs':
    /^sent 10000 orders as MessagePack over reliable UDP; received 10000, 0 wrong, 0 undecodable\nring: 10000 JSON values written as UTF-8 into their slots and decoded in place, 0 wrong$/m,
  // The relay is seeded, but which datagrams it meets depends on timing: counts vary, the outcome may not.
  'reliable-under-loss.mjs':
    /^sent 20000 messages; the relay lost [1-9]\d* datagrams\nrebuilt [1-9]\d* from parity, retransmitted \d+ after \d+ NAKs\nreceived 20000, 0 out of order or corrupt; stream: end$/m,
};

// Where io_uring zero copy is not usable the example says why instead; that is a pass only there.
const zeroCopy = capability().usable && capability().operations.sendZeroCopy;
examples['uring-zero-copy.mjs'] = zeroCopy
  ? /^sent 2000 datagrams of 8192 bytes zero-copy from 16 registered slots, each rewritten only after its SEND record\nreceived 2000, 0 wrong; all 16 slots back, 0 sends in flight$/m
  : /^io_uring zero copy is not usable here: .+$/m;

let failed = 0;
for (const [file, expected] of Object.entries(examples)) {
  const output = execFileSync(process.execPath, [new URL(file, import.meta.url).pathname], { encoding: 'utf8', timeout: 60_000 });
  const ok = expected.test(output);
  if (!ok) failed++;
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${file}: ${output.trim()}`);
}
// A README code block marked <!-- example:FILE --> must be exactly that example (the hello
// world, hello.mjs, run above), and there must be one.
const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
for (const match of readme.matchAll(/<!-- example:(\S+) -->\n```js\n([\s\S]*?)```/g)) {
  const same = readFileSync(new URL(match[1], import.meta.url), 'utf8') === match[2];
  if (!same) failed++;
  console.log(`${same ? 'ok  ' : 'FAIL'} README hello world is ${match[1]} verbatim`);
}
const marked = [...readme.matchAll(/<!-- example:/g)].length;
if (marked === 0) {
  failed++;
  console.log('FAIL the README has no <!-- example:FILE --> block: its hello world would go untested');
}
const checks = Object.keys(examples).length + Math.max(marked, 1);
console.log(`${checks - failed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
