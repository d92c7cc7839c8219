/**
 * Real loss in the kernel: two network namespaces joined by a veth pair, and in each an
 * nftables rule that drops 5% of incoming UDP datagrams at random, so DATA, NAKs, STATUS and
 * retransmissions are all lost both ways. One million 64-byte messages must arrive exactly
 * once and in order, and the stream must end cleanly.
 *
 *   netns fluxRA-<pid>                                     netns fluxRB-<pid>
 *   [subscriber.mjs] 10.205.0.1 <------ veth ------> 10.205.0.2 [publisher.mjs]
 *   nft: udp, numgen random mod 100 < 5 -> drop            nft: the same
 *
 * Needs root, iproute2 and nft (Debian's nftables: installed with apt-get when missing, as
 * .ci/run does); otherwise it is
 * skipped, saying why. Host scripts import the built dist/ as a user would. Every wait has
 * a deadline; the namespaces are deleted afterwards.
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';

const NAMESPACE_A = `fluxRA-${process.pid}`;
const NAMESPACE_B = `fluxRB-${process.pid}`;
const VETH_A = `fra${process.pid}`; // interface names: at most 15 characters
const VETH_B = `frb${process.pid}`;
const ADDRESS_A = '10.205.0.1';
const ADDRESS_B = '10.205.0.2';
const STREAM_ID = 3;
const LOSS_PERCENT = 5;
const DEADLINE_MS = 120_000;
const config = { count: 1_000_000, messageBytes: 64 };

const subscriberScript = new URL('./hosts/subscriber.mjs', import.meta.url).pathname;
const publisherScript = new URL('./hosts/publisher.mjs', import.meta.url).pathname;

function run(command: string, args: string[], input?: string): void {
  execFileSync(command, args, { input, stdio: ['pipe', 'ignore', 'pipe'], timeout: 10_000 });
}

function quietly(...args: string[]): void {
  spawnSync('ip', args, { stdio: 'ignore', timeout: 10_000 });
}

function deleteNamespaces(): void {
  quietly('netns', 'del', NAMESPACE_A);
  quietly('netns', 'del', NAMESPACE_B);
  quietly('link', 'del', VETH_A);
}

function stderrOf(error: unknown): string {
  return String((error as { stderr?: unknown }).stderr ?? error).trim();
}

function hasNft(): boolean {
  return spawnSync('nft', ['--version'], { stdio: 'ignore', timeout: 10_000 }).status === 0;
}

/** Why the test cannot run here (a missing prerequisite), or null. */
function missingPrerequisite(): string | null {
  if (process.platform !== 'linux') return `network namespaces need Linux (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return 'creating network namespaces needs root';
  if (spawnSync('ip', ['-V'], { stdio: 'ignore', timeout: 10_000 }).status !== 0) return "the 'ip' command (iproute2) is missing";
  if (!hasNft() && spawnSync('apt-get', ['--version'], { stdio: 'ignore', timeout: 10_000 }).status === 0) {
    // Debian's nftables is not preinstalled: install it, as .ci/run does (root, bounded).
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    if (spawnSync('apt-get', ['install', '-y', '-qq', 'nftables'], { stdio: 'ignore', timeout: 300_000, env }).status !== 0) {
      spawnSync('apt-get', ['update', '-qq'], { stdio: 'ignore', timeout: 300_000, env });
      spawnSync('apt-get', ['install', '-y', '-qq', 'nftables'], { stdio: 'ignore', timeout: 300_000, env });
    }
  }
  if (!hasNft()) return "the 'nft' command is missing and could not be installed (Debian package nftables)";
  return null;
}

/** Creates both namespaces, the link and the drop rules; returns what failed, or null (a failure fails the test). */
function setUp(): string | null {
  deleteNamespaces();
  try {
    run('ip', ['netns', 'add', NAMESPACE_A]);
    run('ip', ['netns', 'add', NAMESPACE_B]);
    run('ip', ['link', 'add', VETH_A, 'type', 'veth', 'peer', 'name', VETH_B]);
    run('ip', ['link', 'set', VETH_A, 'netns', NAMESPACE_A]);
    run('ip', ['link', 'set', VETH_B, 'netns', NAMESPACE_B]);
    run('ip', ['-n', NAMESPACE_A, 'addr', 'add', `${ADDRESS_A}/24`, 'dev', VETH_A]);
    run('ip', ['-n', NAMESPACE_B, 'addr', 'add', `${ADDRESS_B}/24`, 'dev', VETH_B]);
    for (const [namespace, veth] of [
      [NAMESPACE_A, VETH_A],
      [NAMESPACE_B, VETH_B],
    ]) {
      run('ip', ['-n', namespace, 'link', 'set', 'lo', 'up']);
      run('ip', ['-n', namespace, 'link', 'set', veth, 'up']);
      const rules = [
        'table inet fluxloss {',
        '  chain input {',
        '    type filter hook input priority 0;',
        `    meta l4proto udp numgen random mod 100 < ${LOSS_PERCENT} counter drop`,
        '  }',
        '}',
      ].join('\n');
      run('ip', ['netns', 'exec', namespace, 'nft', '-f', '-'], rules);
    }
  } catch (error) {
    deleteNamespaces();
    return `setting up the namespaces or the nftables rule failed: ${stderrOf(error)}`;
  }
  return null;
}

/** Packets the rule dropped in `namespace`. */
function droppedIn(namespace: string): number {
  const listing = execFileSync('ip', ['netns', 'exec', namespace, 'nft', 'list', 'table', 'inet', 'fluxloss'], { encoding: 'utf8', timeout: 10_000 });
  return Number(/counter packets (\d+)/.exec(listing)?.[1] ?? 0);
}

const skipReason = missingPrerequisite();
if (skipReason) console.warn(`kernel-loss test skipped: ${skipReason}`);
const setUpError = skipReason ? null : setUp();

const children: ChildProcess[] = [];
afterAll(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  if (!skipReason) deleteNamespaces();
});

type HostMessage = { type: string; [key: string]: unknown };

function startHost(namespace: string, script: string, args: string[]) {
  const child = spawn('ip', ['netns', 'exec', namespace, process.execPath, script, ...args], { stdio: ['ignore', 'inherit', 'pipe', 'ipc'] });
  children.push(child);
  const inbox: HostMessage[] = [];
  let stderr = '';
  let ended: string | null = null;
  let waiter: (() => void) | null = null;
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  child.on('message', (message: HostMessage) => {
    inbox.push(message);
    waiter?.();
  });
  child.on('exit', (code, signal) => {
    ended = `${script} exited (code ${code}, signal ${signal})`;
    waiter?.();
  });
  return {
    send: (message: HostMessage) => child.send(message),
    next(type: string, deadline: number): Promise<HostMessage> {
      return new Promise((resolve, reject) => {
        const fail = (why: string) => {
          clearTimeout(timer);
          waiter = null;
          reject(new Error(`${why}${stderr ? `\nstderr:\n${stderr}` : ''}`));
        };
        const timer = setTimeout(() => fail(`${script}: no '${type}' before the deadline`), Math.max(1, deadline - Date.now()));
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
  };
}

describe('@flux/reliable across a lossy kernel path', () => {
  it.skipIf(skipReason)(
    `delivers ${config.count.toLocaleString('en-US')} messages exactly once in order with ${LOSS_PERCENT}% of datagrams dropped both ways by nftables`,
    async () => {
      expect(setUpError).toBeNull();
      const deadline = Date.now() + DEADLINE_MS;
      const hostConfig = JSON.stringify({ ...config, deadlineMs: deadline });
      const subscriber = startHost(NAMESPACE_A, subscriberScript, [ADDRESS_A, String(STREAM_ID), hostConfig]);
      const { port } = await subscriber.next('ready', deadline);
      const publisher = startHost(NAMESPACE_B, publisherScript, [ADDRESS_A, String(port), String(STREAM_ID), hostConfig]);
      const done = await publisher.next('done', deadline);
      subscriber.send({ type: 'finish' }); // if the end never came, report what arrived
      const report = await subscriber.next('report', deadline);
      const summary = JSON.stringify({ done, report });
      expect(done.connected, summary).toBe(true);
      expect(done.flushed, summary).toBe(true);
      expect(report.wrong, summary).toBe(0);
      expect(report.received, summary).toBe(config.count);
      expect(report.events, summary).toEqual(['begin', 'end']);
      expect(done.state, summary).toBe('ended');
      // The loss was real, and repaired.
      expect(droppedIn(NAMESPACE_A) + droppedIn(NAMESPACE_B)).toBeGreaterThan(0);
      expect((done.counters as Record<string, number>).retransmits).toBeGreaterThan(0);
      console.log(`kernel loss: dropped ${droppedIn(NAMESPACE_A)} in A, ${droppedIn(NAMESPACE_B)} in B; publisher ${JSON.stringify(done.counters)}`);
    },
    DEADLINE_MS + 10_000,
  );
});
