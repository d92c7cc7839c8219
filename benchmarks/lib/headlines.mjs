// The README's headline rows (lib/report.mjs headlineTable): each names a result line of the
// full suite by bench, a part of its variant, its metric and (optionally) a part of its
// baseline. The figures come from the run; only the choice of rows is written here. The
// choice includes the rows where Flux loses: a headline table of wins only would mislead.
export const HEADLINES = [
  // Threads: the ring against what a Node user has, at the same batch, and against the limit.
  {
    label: 'Ring, 1 producer -> 1 consumer, 256 x 64 B per claim',
    bench: 'ring_1p1c_throughput',
    variant: 'claim/publish 256 (vs MessagePort)',
    metric: 'throughput',
  },
  { label: 'the same, against ringbuf.js', bench: 'ring_1p1c_throughput', variant: 'claim/publish 256 (vs ringbuf.js)', metric: 'throughput' },
  {
    label: 'the same, against a minimal SAB handoff (the limit)',
    bench: 'ring_1p1c_throughput',
    variant: 'claim/publish 256 (of the limit)',
    metric: 'throughput',
  },
  {
    label: 'Ring, one message per claim, written in place',
    bench: 'ring_1p1c_per_message',
    variant: 'claim/publish 1, written in place',
    metric: 'throughput',
    baseline: 'MessagePort',
  },
  {
    label: 'Ring fan-out, 4 consumers each reading every message',
    bench: 'ring_fanout',
    variant: '4 consumers, claim/publish 256 (vs BroadcastChannel)',
    metric: 'throughput',
  },
  { label: 'Multi-producer ring, 4 producers -> 1 consumer', bench: 'ring_mpsc', variant: 'flux multi-producer ring, 4 producers', metric: 'throughput' },
  { label: 'Ping-pong, blocking wait (p50 round trip)', bench: 'ring_ping_pong_latency', variant: 'flux ring, blocking wait', metric: 'rtt_p50' },
  {
    label: 'Ping-pong, async wait (p50 round trip)',
    bench: 'ring_ping_pong_latency',
    variant: 'flux ring, async wait',
    metric: 'rtt_p50',
    baseline: 'MessagePort',
  },
  { label: 'Ping-pong, busy spin, one core per side (p50)', bench: 'ring_ping_pong_latency', variant: 'busy-spin', metric: 'rtt_p50' },
  {
    label: 'Three-stage pipeline at 50k msg/s (p50)',
    bench: 'ring_pipeline_latency',
    variant: 'flux ring pipeline, 50k',
    metric: 'lat_p50',
    baseline: 'SAB queue',
  },
  // UDP: against a node:dgram sender that packs the same way.
  { label: 'UDP, 64 B messages, @flux/udp on io_uring', bench: 'transport_comparison', variant: '@flux/udp on io_uring, 64 B, packed', metric: 'throughput' },
  { label: 'the same, CPU per message (both processes)', bench: 'transport_comparison', variant: '@flux/udp on io_uring, 64 B, packed', metric: 'cpu/msg' },
  {
    label: 'UDP, 64 B messages, @flux/udp on node:dgram',
    bench: 'transport_comparison',
    variant: '@flux/udp on node:dgram, 64 B, packed',
    metric: 'throughput',
  },
  // Reliable delivery on io_uring with CUBIC (the defaults): against TCP without loss and
  // under it, what congestion control costs under random loss, and where TCP still wins.
  {
    label: 'Reliable, lossless loopback',
    bench: 'reliable_delivery',
    variant: '@flux/reliable (io_uring, CUBIC), loopback',
    metric: 'throughput',
    baseline: 'TCP',
  },
  {
    label: 'Reliable, lossless veth (TCP with offload)',
    bench: 'reliable_delivery',
    variant: '@flux/reliable (io_uring, CUBIC), netns veth (default offload)',
    metric: 'throughput',
    baseline: 'TCP cubic',
  },
  {
    label: 'Reliable, 5% loss, against TCP BBR',
    bench: 'reliable_delivery',
    variant: '@flux/reliable (io_uring, CUBIC), netns veth 5% loss',
    metric: 'throughput',
    baseline: 'TCP BBR',
  },
  {
    label: 'Reliable, 1% loss, against TCP CUBIC',
    bench: 'reliable_delivery',
    variant: '@flux/reliable (io_uring, CUBIC), netns veth 1% loss',
    metric: 'throughput',
    baseline: 'TCP cubic',
  },
  {
    label: "Reliable, 5% loss, CUBIC against 'static' (what congestion control costs there)",
    bench: 'reliable_delivery',
    variant: '@flux/reliable (io_uring, CUBIC), netns veth 5% loss',
    metric: 'throughput',
    baseline: "'static'",
  },
  {
    label: 'Reliable, 5% loss, one-way p99 at 20k msg/s',
    bench: 'reliable_delivery',
    variant: '@flux/reliable (io_uring, CUBIC), netns veth 5% loss',
    metric: 'p99',
    baseline: 'TCP BBR',
  },
  {
    label: 'Reliable, loopback, CPU per message at 20k msg/s',
    bench: 'reliable_delivery',
    variant: '@flux/reliable (io_uring, CUBIC), loopback',
    metric: 'cpu/msg',
    baseline: 'TCP',
  },
  // Added after the suite of 2026-12-03: in the table from the next full run.
  {
    label: 'UDP one-way p99 at 200k msg/s, @flux/udp on io_uring',
    bench: 'network_latency',
    variant: '@flux/udp on io_uring, 200k msg/s, loopback',
    metric: 'p99',
    baseline: 'TCP',
  },
  {
    label: 'Reliable one-way p99 at 50k msg/s, loopback',
    bench: 'network_latency',
    variant: '@flux/reliable (io_uring, CUBIC), 50k msg/s, loopback',
    metric: 'p99',
    baseline: 'TCP',
  },
  {
    label: 'UDP, 16 KiB messages (fragmented), @flux/udp on io_uring',
    bench: 'udp_message_sizes',
    variant: '@flux/udp on io_uring, 16,384 B',
    metric: 'throughput',
  },
  { label: 'Ring, 64 KiB messages', bench: 'ring_message_sizes', variant: 'flux ring, claim/publish 1, 65,536 B (vs MessagePort)', metric: 'throughput' },
  { label: 'Memory, @flux/udp pair on io_uring (RSS)', bench: 'memory', variant: '@flux/udp publication + subscription (io_uring)', metric: 'rss/pair' },
  { label: 'Memory, node:dgram socket pair (RSS)', bench: 'memory', variant: 'node:dgram socket pair', metric: 'rss/pair' },
  {
    label: 'Memory, @flux/reliable pair on io_uring (RSS)',
    bench: 'memory',
    variant: '@flux/reliable publication + subscription, one session (io_uring)',
    metric: 'rss/pair',
  },
];
