/**
 * @flux/udp between two hosts: two network namespaces joined by a veth pair, a subscriber
 * process in one and a publisher process in the other, each a separate `node` run with
 * `ip netns exec` and importing the built dist/ (as a user would).
 *
 *   netns fluxA-<pid>                                   netns fluxB-<pid>
 *   [subscriber.mjs] 10.203.0.1/24 <---- veth ----> 10.203.0.2/24 [publisher.mjs]
 *        |  progress every chunk (IPC)                       ^  chunk sent / go (IPC)
 *        +-------------------> [this test] ------------------+
 *
 * 100,000 messages of 64 bytes and 200 of 5,000 bytes (each sent as fragments) are paced by
 * chunks: the publisher flushes a chunk and waits until the subscriber has reported receiving
 * all of it, so the receive buffer never overflows and any loss is a defect. The subscriber
 * checks every message's index, length and bytes. Needs root and iproute2; otherwise it is
 * skipped, saying why. Every wait has a deadline; the namespaces are deleted afterwards.
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { capability } from '@flux/uring';

const NAMESPACE_A = `fluxA-${process.pid}`;
const NAMESPACE_B = `fluxB-${process.pid}`;
const VETH_A = `fxa${process.pid}`; // interface names: at most 15 characters
const VETH_B = `fxb${process.pid}`;
const ADDRESS_A = '10.203.0.1';
const ADDRESS_B = '10.203.0.2';
const STREAM_ID = 42;
const DEADLINE_MS = 60_000;
const CHUNK_DEADLINE_MS = 10_000; // a chunk whose tail was lost never completes: fail after this
const config = { smallCount: 100_000, smallBytes: 64, largeCount: 200, largeBytes: 5_000, chunk: 1_000 };
const total = config.smallCount + config.largeCount;

const subscriberScript = new URL('./hosts/subscriber.mjs', import.meta.url).pathname;
const publisherScript = new URL('./hosts/publisher.mjs', import.meta.url).pathname;

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'], timeout: 10_000 });
}

function quietly(...args: string[]): void {
  spawnSync('ip', args, { stdio: 'ignore', timeout: 10_000 });
}

function deleteNamespaces(): void {
  quietly('netns', 'del', NAMESPACE_A);
  quietly('netns', 'del', NAMESPACE_B);
  quietly('link', 'del', VETH_A); // only if a failed setup left it in this namespace
}

/** Creates both namespaces and the link; returns why the test cannot run, or null. */
function setUpNamespaces(): string | null {
  if (process.platform !== 'linux') return `network namespaces need Linux (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return 'creating network namespaces needs root';
  if (spawnSync('ip', ['-V'], { stdio: 'ignore', timeout: 10_000 }).status !== 0) return "the 'ip' command (iproute2) is missing";
  deleteNamespaces(); // leftovers from an earlier run with this pid
  try {
    ip('netns', 'add', NAMESPACE_A);
    ip('netns', 'add', NAMESPACE_B);
  } catch (error) {
    deleteNamespaces();
    return `'ip netns add' failed: ${String((error as { stderr?: unknown }).stderr ?? error).trim()}`;
  }
  try {
    ip('link', 'add', VETH_A, 'type', 'veth', 'peer', 'name', VETH_B);
    ip('link', 'set', VETH_A, 'netns', NAMESPACE_A);
    ip('link', 'set', VETH_B, 'netns', NAMESPACE_B);
    ip('-n', NAMESPACE_A, 'addr', 'add', `${ADDRESS_A}/24`, 'dev', VETH_A);
    ip('-n', NAMESPACE_B, 'addr', 'add', `${ADDRESS_B}/24`, 'dev', VETH_B);
    for (const [namespace, veth] of [
      [NAMESPACE_A, VETH_A],
      [NAMESPACE_B, VETH_B],
    ]) {
      ip('-n', namespace, 'link', 'set', 'lo', 'up');
      ip('-n', namespace, 'link', 'set', veth, 'up');
    }
  } catch (error) {
    deleteNamespaces();
    return `setting up the veth pair failed: ${String((error as { stderr?: unknown }).stderr ?? error).trim()}`;
  }
  return null;
}

const skipReason = setUpNamespaces();
if (skipReason) console.warn(`two-hosts test skipped: ${skipReason}`);

const children: ChildProcess[] = [];
afterAll(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  if (!skipReason) deleteNamespaces();
});

type HostMessage = { type: string; [key: string]: unknown };

/** A host process: `node script args...` in `namespace`, talking to this test over IPC. */
function startHost(namespace: string, script: string, args: string[], env: Record<string, string>) {
  const child = spawn('ip', ['netns', 'exec', namespace, process.execPath, script, ...args], {
    stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
    env: { ...process.env, ...env },
  });
  children.push(child);
  const name = script.slice(script.lastIndexOf('/') + 1);
  const inbox: HostMessage[] = [];
  let stderr = '';
  let ended: string | null = null;
  let waiter: (() => void) | null = null;
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  child.on('message', (message: HostMessage) => {
    inbox.push(message);
    waiter?.();
  });
  child.on('error', (error) => {
    ended = `${name} could not start: ${error.message}`;
    waiter?.();
  });
  child.on('exit', (code, signal) => {
    ended = `${name} exited (code ${code}, signal ${signal})`;
    waiter?.();
  });
  return {
    child,
    send: (message: HostMessage) => child.send(message),
    /** The host's next message of `type`; rejects if it exits first or `deadline` passes. */
    next(type: string, deadline: number): Promise<HostMessage> {
      return new Promise((resolve, reject) => {
        const fail = (why: string) => {
          clearTimeout(timer);
          waiter = null;
          reject(new Error(`${why}${stderr ? `\n${name} stderr:\n${stderr}` : ''}`));
        };
        const timer = setTimeout(() => fail(`${name}: no '${type}' message before the deadline`), Math.max(1, deadline - Date.now()));
        const take = () => {
          const index = inbox.findIndex((m) => m.type === type);
          if (index >= 0) {
            clearTimeout(timer);
            waiter = null;
            resolve(inbox.splice(index, 1)[0]);
          } else if (ended) fail(ended);
        };
        waiter = take;
        take();
      });
    },
    /** Resolves with the exit code, or rejects at `deadline`. */
    exited(deadline: number): Promise<number | null> {
      return new Promise((resolve, reject) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve(child.exitCode);
        const timer = setTimeout(() => reject(new Error(`${name} did not exit before the deadline`)), Math.max(1, deadline - Date.now()));
        child.once('exit', (code) => {
          clearTimeout(timer);
          resolve(code);
        });
      });
    },
  };
}

// Both backends: auto (io_uring here) and node:dgram forced by the opt-out variable.
const backends = [
  { name: 'auto', env: {} as Record<string, string>, expected: capability().usable ? 'io_uring' : 'dgram' },
  { name: 'FLUX_URING=0', env: { FLUX_URING: '0' }, expected: 'dgram' },
];

describe.each(backends)('@flux/udp between two network namespaces, backend $name', ({ env, expected }) => {
  it.skipIf(skipReason)(
    `${total.toLocaleString('en-US')} messages (${config.largeCount} fragmented) cross a veth link intact and in order`,
    async () => {
      const deadline = Date.now() + DEADLINE_MS;
      const hostConfig = JSON.stringify({ ...config, deadlineMs: deadline });
      const subscriber = startHost(NAMESPACE_A, subscriberScript, [ADDRESS_A, String(STREAM_ID), hostConfig], env);
      const { port, backend: subscriberBackend } = await subscriber.next('ready', deadline);
      expect(subscriberBackend).toBe(expected);
      const publisher = startHost(NAMESPACE_B, publisherScript, [ADDRESS_A, String(port), String(STREAM_ID), hostConfig], env);

      // Progress reports arrive in order; keep the newest. A loss fails at once.
      let receivedSoFar = 0;
      const waitForReceived = async (count: number) => {
        const chunkDeadline = Math.min(deadline, Date.now() + CHUNK_DEADLINE_MS);
        while (receivedSoFar < count) {
          const progress = await subscriber.next('progress', chunkDeadline);
          receivedSoFar = progress.received as number;
          if ((progress.lost as number) > 0) throw new Error(`${progress.lost as number} lost or dropped by message ${receivedSoFar}`);
        }
      };

      let pacing: Error | null = null;
      try {
        for (let sentSoFar = 0; sentSoFar < total; ) {
          sentSoFar = (await publisher.next('chunk', deadline)).sent as number;
          await waitForReceived(sentSoFar);
          publisher.send({ type: 'go' });
        }
      } catch (error) {
        pacing = error as Error; // report what the subscriber saw before failing
      }
      const done = pacing ? null : await publisher.next('done', deadline);
      subscriber.send({ type: 'finish' });
      const report = await subscriber.next('report', deadline);
      if (pacing) throw new Error(`${pacing.message}\nsubscriber: ${JSON.stringify(report)}`);

      const subscriberCounters = report.counters as Record<string, number>;
      const publisherCounters = done!.counters as Record<string, number>;
      expect(report.firstProblem).toBeNull();
      expect(report.wrong).toBe(0);
      expect(report.received).toBe(total);
      expect(subscriberCounters.messagesReceived).toBe(total);
      expect(subscriberCounters.framesLost).toBe(0);
      expect(subscriberCounters.messagesLostInReassembly).toBe(0);
      expect(subscriberCounters.dropped).toBe(0);
      expect(done!.backend).toBe(expected);
      expect(publisherCounters.messagesSent).toBe(total);
      expect(publisherCounters.sendErrors).toBe(0);
      // 5,000 bytes in frames of at most 1,452 (1,472-byte datagrams): 4 fragments each
      expect(publisherCounters.fragmentsSent).toBe(config.largeCount * Math.ceil(config.largeBytes / 1452));
      expect(subscriberCounters.datagramsReceived).toBe(publisherCounters.datagramsSent);
      expect(await subscriber.exited(deadline)).toBe(0);
      expect(await publisher.exited(deadline)).toBe(0);
    },
    DEADLINE_MS + 30_000,
  );
});
