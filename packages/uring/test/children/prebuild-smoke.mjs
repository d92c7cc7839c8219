// Loads the addon file named by argv[2] and exercises what works under any kernel, even
// qemu-user's (which has no io_uring): the capability probe, the seam constants, a shared
// file mapping, a futex wake and a bounded futex wait. Prints one JSON line.
import { unlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';

const binding = createRequire(import.meta.url)(process.argv[2]);
const capability = binding.capability();
const path = `${tmpdir()}/flux-prebuild-smoke-${process.pid}`;
const buffer = binding.mapSharedFile(path, 4096, true, 0o600);
try {
  const words = new Int32Array(buffer);
  Atomics.store(words, 1, 7);
  const woken = binding.futexWake(buffer, 4, 1);
  const waitResult = binding.futexWait(buffer, 4, 7, 1); // nobody wakes it: times out after 1 ms
  const changedResult = binding.futexWait(buffer, 4, 8, 1000); // the word is not 8: returns at once
  console.log(
    JSON.stringify({
      arch: process.arch,
      usable: capability.usable,
      reason: capability.reason,
      seamLayout: binding.seamLayout(),
      word: Atomics.load(words, 1),
      woken,
      waitResult,
      changedResult,
    }),
  );
} finally {
  unlinkSync(path);
}
