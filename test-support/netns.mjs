// Two hosts on one machine, for the network tests and benchmarks alike: two network
// namespaces joined by a veth pair, optionally with random loss made by an nftables rule in
// both namespaces. (The one copy: packages/udp and packages/reliable tests and benchmarks/
// import it from here; child-host.mjs runs a process in one of the namespaces.)
//
//   netns fbenchA-<pid>-<n>                                   netns fbenchB-<pid>-<n>
//   10.204.0.1/24 on fbA<pid>n<n> <-------- veth --------> fbB<pid>n<n> on 10.204.0.2/24
//   table inet fluxbench_loss, chain input (hook input):     the same table and chain
//     iifname <veth> counter                        (every packet that arrives: "arrived")
//     iifname <veth> numgen random mod 100 < L counter drop                    ("dropped")
//
// Each namespace drops L% of the packets arriving on its end of the veth, so both directions
// are lossy: data one way, acknowledgements and NAKs the other (TCP segments too). Both ends
// have gso_max_segs 1 (wirePackets, the default), so a packet is at most one MTU (1,500 B),
// as on a wire: TCP and UDP GSO are segmented before the veth, and the rule drops single
// segments; `wirePackets: false` keeps the veth's default offload.
// Processes in the two namespaces share the machine's CLOCK_MONOTONIC (no time namespace).
//
// Needs Linux, root and `ip` (iproute2); loss also needs `nft` (Debian's nftables package:
// .ci/run installs it, and lossUnavailableReason({ install: true }) does with apt-get when
// root). openNetnsPair() returns the reason instead of throwing when it cannot run. Every pair is deleted by close(), and on process exit or SIGINT/SIGTERM/SIGHUP.
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';

export const DEFAULT_SUBNET = '10.204.0'; // the pair gets <subnet>.1/24 (A) and <subnet>.2/24 (B)
const NAMESPACE_PREFIX = 'fbench';
const LOSS_TABLE = 'fluxbench_loss';
const COMMAND_TIMEOUT_MS = 10_000;
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'];

const openPairs = new Set();
let pairsOpened = 0;
let hooksInstalled = false;

function run(command, args, input) {
  return execFileSync(command, args, { input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'], timeout: COMMAND_TIMEOUT_MS });
}

function quietly(command, args) {
  spawnSync(command, args, { stdio: 'ignore', timeout: COMMAND_TIMEOUT_MS });
}

function works(command, args) {
  return spawnSync(command, args, { stdio: 'ignore', timeout: COMMAND_TIMEOUT_MS }).status === 0;
}

function stderrOf(error) {
  return String(error?.stderr || error?.message || error).trim();
}

/** Why namespaces cannot be made here, or null. */
export function netnsUnavailableReason() {
  if (process.platform !== 'linux') return `network namespaces need Linux (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return 'creating network namespaces needs root';
  if (!works('ip', ['-V'])) return "the 'ip' command (iproute2) is missing";
  return null;
}

/** Why a rate-limited bottleneck (tc tbf) cannot be made here, or null. */
export function rateLimitUnavailableReason() {
  const reason = netnsUnavailableReason();
  if (reason) return reason;
  if (!works('tc', ['-V'])) return "the 'tc' command (iproute2) is missing";
  return null;
}

const APT_TIMEOUT_MS = 300_000;

/** Installs Debian's nftables with apt-get (root, bounded), as .ci/run does; returns whether nft works afterwards. */
function installNft() {
  if (!works('apt-get', ['--version'])) return false;
  const options = { stdio: 'ignore', timeout: APT_TIMEOUT_MS, env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } };
  if (spawnSync('apt-get', ['install', '-y', '-qq', 'nftables'], options).status !== 0) {
    spawnSync('apt-get', ['update', '-qq'], options);
    spawnSync('apt-get', ['install', '-y', '-qq', 'nftables'], options);
  }
  return works('nft', ['--version']);
}

/** Why random loss cannot be made here, or null; `install`: try apt-get first when nft is missing. */
export function lossUnavailableReason({ install = false } = {}) {
  const reason = netnsUnavailableReason();
  if (reason) return reason;
  if (!works('nft', ['--version']) && !(install && installNft())) {
    return "the 'nft' command is missing (Debian package nftables; .ci/run installs it as root)";
  }
  return null;
}

/** Deletes namespaces left by runs of this module whose process is gone (killed before it could clean up). */
function deleteStaleNamespaces() {
  let listing = '';
  try {
    listing = run('ip', ['netns', 'list']);
  } catch {
    return;
  }
  for (const line of listing.split('\n')) {
    const match = new RegExp(`^(${NAMESPACE_PREFIX}[AB]-(\\d+)-\\d+)\\b`).exec(line);
    if (!match) continue;
    try {
      process.kill(Number(match[2]), 0);
    } catch (error) {
      if (error.code === 'ESRCH') quietly('ip', ['netns', 'del', match[1]]);
    }
  }
}

const ALLOWED_CONGESTION_CONTROL = '/proc/sys/net/ipv4/tcp_allowed_congestion_control';
let allowedBefore = null; // the host's list before a pair widened it, restored when the last pair closes

/**
 * A namespace other than the host's may only make an *allowed* algorithm its default (the
 * kernel answers EPERM otherwise); the host's allowed list may lack one it offers (here:
 * cubic, when bbr is the default). Adds `name` to the host's list while pairs are open.
 */
function allowCongestionControl(name) {
  const allowed = readFileSync(ALLOWED_CONGESTION_CONTROL, 'utf8').trim().split(/\s+/).filter(Boolean);
  if (allowed.includes(name)) return;
  allowedBefore ??= allowed.join(' ');
  writeFileSync(ALLOWED_CONGESTION_CONTROL, [...allowed, name].join(' '));
}

function restoreAllowedCongestionControl() {
  if (allowedBefore === null || openPairs.size > 0) return;
  try {
    writeFileSync(ALLOWED_CONGESTION_CONTROL, allowedBefore);
  } catch {}
  allowedBefore = null;
}

function closeAll() {
  for (const pair of openPairs) pair.close();
}

function onSignal(signal) {
  closeAll();
  for (const name of SIGNALS) process.removeListener(name, onSignal);
  process.kill(process.pid, signal); // the default action, now that nothing is left behind
}

function installHooks() {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.once('exit', closeAll);
  for (const signal of SIGNALS) process.on(signal, onSignal);
}

/** The nft script that (re)creates the loss table; the add-then-delete pair makes it idempotent. */
function lossScript(veth, lossPercent) {
  return [
    `table inet ${LOSS_TABLE}`,
    `delete table inet ${LOSS_TABLE}`,
    `table inet ${LOSS_TABLE} {`,
    '  chain input {',
    '    type filter hook input priority filter; policy accept;',
    `    iifname "${veth}" counter comment "arrived"`,
    `    iifname "${veth}" numgen random mod 100 < ${lossPercent} counter drop comment "dropped"`,
    '  }',
    '}',
    '',
  ].join('\n');
}

/**
 * Creates the two namespaces and the veth pair. Returns { pair, reason }: `pair` is null and
 * `reason` says why when it cannot run. pair: { namespaceA, namespaceB, addressA, addressB,
 * vethA, vethB, commandPrefixA, commandPrefixB (for startChild), lossPercent,
 * setLossPercent(percent), lossCounters(), close() }.
 */
export function openNetnsPair({ lossPercent = 0, subnet = DEFAULT_SUBNET, wirePackets = true } = {}) {
  const reason = lossPercent > 0 ? lossUnavailableReason() : netnsUnavailableReason();
  if (reason) return { pair: null, reason };
  deleteStaleNamespaces();
  const n = pairsOpened++;
  const namespaceA = `${NAMESPACE_PREFIX}A-${process.pid}-${n}`;
  const namespaceB = `${NAMESPACE_PREFIX}B-${process.pid}-${n}`;
  const vethA = `fbA${process.pid}n${n}`; // interface names: at most 15 characters
  const vethB = `fbB${process.pid}n${n}`;
  let closed = false;
  const pair = {
    namespaceA,
    namespaceB,
    addressA: `${subnet}.1`,
    addressB: `${subnet}.2`,
    vethA,
    vethB,
    commandPrefixA: ['ip', 'netns', 'exec', namespaceA],
    commandPrefixB: ['ip', 'netns', 'exec', namespaceB],
    lossPercent: 0,

    /** Drops `percent`% of the packets arriving in either namespace (0 removes the rule); throws if nft fails. */
    setLossPercent(percent) {
      if (!Number.isInteger(percent) || percent < 0 || percent > 100) throw new RangeError(`lossPercent must be a whole number 0..100, got ${percent}`);
      if (closed) throw new Error(`setLossPercent(${percent}) on a closed namespace pair`);
      if (percent === 0 && pair.lossPercent === 0) return; // no table to remove (and nft may be missing)
      for (const [namespace, veth] of [
        [namespaceA, vethA],
        [namespaceB, vethB],
      ]) {
        try {
          if (percent === 0) run('ip', ['netns', 'exec', namespace, 'nft', `add table inet ${LOSS_TABLE}; delete table inet ${LOSS_TABLE}`]);
          else run('ip', ['netns', 'exec', namespace, 'nft', '-f', '-'], lossScript(veth, percent));
        } catch (error) {
          throw new Error(`nft in ${namespace} failed: ${stderrOf(error)}`);
        }
      }
      pair.lossPercent = percent;
    },

    /** Packets that arrived on and were dropped at each namespace's veth since the last setLossPercent (zeros without a rule). */
    lossCounters() {
      const counts = { arrived: 0, dropped: 0 };
      if (pair.lossPercent === 0) return counts;
      for (const namespace of [namespaceA, namespaceB]) {
        const listing = JSON.parse(run('ip', ['netns', 'exec', namespace, 'nft', '-j', 'list', 'table', 'inet', LOSS_TABLE]));
        for (const { rule } of listing.nftables) {
          const counter = rule?.expr.find((e) => e.counter)?.counter;
          if (counter && (rule.comment === 'arrived' || rule.comment === 'dropped')) counts[rule.comment] += counter.packets;
        }
      }
      return counts;
    },

    /**
     * Sets TCP's congestion control in both namespaces (net.ipv4.tcp_congestion_control is per
     * namespace; a new one inherits the host's, which may be bbr or cubic): sockets opened
     * afterwards use it. Throws if the kernel does not offer `name`. May widen the host's
     * tcp_allowed_congestion_control while pairs are open (see allowCongestionControl).
     */
    setTcpCongestionControl(name) {
      if (closed) throw new Error(`setTcpCongestionControl(${name}) on a closed namespace pair`);
      if (!/^[a-z0-9_]+$/.test(name)) throw new RangeError(`congestion control must be a kernel module name, got ${name}`);
      const available = readFileSync('/proc/sys/net/ipv4/tcp_available_congestion_control', 'utf8').trim().split(/\s+/);
      if (!available.includes(name)) throw new Error(`TCP congestion control ${name} is not offered by this kernel (it offers ${available.join(', ')})`);
      allowCongestionControl(name);
      for (const namespace of [namespaceA, namespaceB]) {
        try {
          run('ip', ['netns', 'exec', namespace, 'sysctl', '-q', '-w', `net.ipv4.tcp_congestion_control=${name}`]);
        } catch (error) {
          throw new Error(`setting TCP congestion control ${name} in ${namespace} failed: ${stderrOf(error)}`);
        }
      }
    },

    /**
     * A bottleneck: everything B sends to A leaves B's veth through a tbf qdisc of
     * `rateBitsPerSecond`, holding at most `queueMs` of it (a router's buffer; beyond it
     * packets drop, which is what congestion control reacts to). 0 removes it. Throws if tc fails.
     */
    setRateLimit(rateBitsPerSecond, { queueMs = 20 } = {}) {
      if (!Number.isInteger(rateBitsPerSecond) || rateBitsPerSecond < 0)
        throw new RangeError(`rateBitsPerSecond must be a whole number >= 0, got ${rateBitsPerSecond}`);
      if (closed) throw new Error(`setRateLimit(${rateBitsPerSecond}) on a closed namespace pair`);
      const tc = (args) => run('ip', ['netns', 'exec', namespaceB, 'tc', ...args]);
      try {
        if (rateBitsPerSecond === 0) quietly('ip', ['netns', 'exec', namespaceB, 'tc', 'qdisc', 'del', 'dev', vethB, 'root']);
        // burst: a 64 KiB GSO packet passes whole (tbf splits larger ones); latency: the queue's length in time.
        else tc(['qdisc', 'replace', 'dev', vethB, 'root', 'tbf', 'rate', `${rateBitsPerSecond}bit`, 'burst', '65536', 'latency', `${queueMs}ms`]);
      } catch (error) {
        throw new Error(`tc in ${namespaceB} failed: ${stderrOf(error)}`);
      }
    },

    /** tbf's counters on B's veth: { sentPackets, dropped, overlimits } (zeros without a limit). */
    rateLimitCounters() {
      const listing = JSON.parse(run('ip', ['netns', 'exec', namespaceB, 'tc', '-s', '-j', 'qdisc', 'show', 'dev', vethB]));
      const tbf = listing.find((q) => q.kind === 'tbf');
      return { sentPackets: tbf?.packets ?? 0, dropped: tbf?.drops ?? 0, overlimits: tbf?.overlimits ?? 0 };
    },

    /** TCP's congestion control in namespace A (the receiver's) and B (the sender's). */
    tcpCongestionControl() {
      const read = (namespace) => run('ip', ['netns', 'exec', namespace, 'cat', '/proc/sys/net/ipv4/tcp_congestion_control']).trim();
      return { a: read(namespaceA), b: read(namespaceB) };
    },

    /** Deletes both namespaces (and with them the veth pair and the nft tables). Idempotent. */
    close() {
      if (closed) return;
      closed = true;
      openPairs.delete(pair);
      quietly('ip', ['netns', 'del', namespaceA]);
      quietly('ip', ['netns', 'del', namespaceB]);
      quietly('ip', ['link', 'del', vethA]); // only if a failed setup left it in this namespace
      restoreAllowedCongestionControl();
    },
  };
  openPairs.add(pair);
  installHooks();
  try {
    run('ip', ['netns', 'add', namespaceA]);
    run('ip', ['netns', 'add', namespaceB]);
    run('ip', ['link', 'add', vethA, 'type', 'veth', 'peer', 'name', vethB]);
    run('ip', ['link', 'set', vethA, 'netns', namespaceA]);
    run('ip', ['link', 'set', vethB, 'netns', namespaceB]);
    run('ip', ['-n', namespaceA, 'addr', 'add', `${pair.addressA}/24`, 'dev', vethA]);
    run('ip', ['-n', namespaceB, 'addr', 'add', `${pair.addressB}/24`, 'dev', vethB]);
    for (const [namespace, veth] of [
      [namespaceA, vethA],
      [namespaceB, vethB],
    ]) {
      run('ip', ['-n', namespace, 'link', 'set', 'lo', 'up']);
      // wirePackets: one packet per skb. Otherwise TCP (TSO) and UDP GSO cross the veth as packets
      // of up to 64 KB, and the loss rule would drop ~45 segments at once where a real link drops one.
      if (wirePackets) run('ip', ['-n', namespace, 'link', 'set', veth, 'gso_max_segs', '1']);
      run('ip', ['-n', namespace, 'link', 'set', veth, 'up']);
    }
  } catch (error) {
    pair.close();
    return { pair: null, reason: `setting up the namespaces and veth pair failed: ${stderrOf(error)}` };
  }
  if (lossPercent > 0) {
    try {
      pair.setLossPercent(lossPercent);
    } catch (error) {
      pair.close();
      return { pair: null, reason: error.message };
    }
  }
  return { pair, reason: null };
}
