/**
 * The pacer: a token bucket of bytes at the congestion controller's rate, so a window is
 * spread over the round trip instead of leaving in one burst (no I/O; time is a parameter).
 *
 *   tokens += rate x (now - last), at most burstBytes     burst = max(rate x 2 ms, 10 datagrams)
 *   a datagram goes when tokens > 0; it takes its bytes   (the bucket may go below 0 by one)
 *   none: nextSendNs() = when tokens are back above 0
 *
 * The burst is as long as an event loop's timer granularity (a 1 ms tick at best), so the
 * pacer never idles a link it could fill; finer pacing needs a thread that polls (the hot
 * mode). An unpaced rate (Infinity) lets everything through.
 */
import { PACING_BURST_NS, PACING_MIN_BURST_DATAGRAMS } from './defaults.js';

export class Pacer {
  private rateBytesPerNs = Number.POSITIVE_INFINITY;
  private burstBytes = Number.POSITIVE_INFINITY;
  private tokensBytes = 0;
  private lastNs = 0;
  private readonly minBurstBytes: number;

  constructor(datagramBytes: number) {
    this.minBurstBytes = PACING_MIN_BURST_DATAGRAMS * datagramBytes;
  }

  /** Sets the rate (bytes per second; Infinity: unpaced), keeping the tokens earned so far. */
  setRate(bytesPerSecond: number, nowNs: number): void {
    this.refill(nowNs);
    this.rateBytesPerNs = bytesPerSecond / 1e9;
    this.burstBytes = Math.max(this.minBurstBytes, this.rateBytesPerNs * PACING_BURST_NS);
    if (this.tokensBytes > this.burstBytes) this.tokensBytes = this.burstBytes;
  }

  /** Whether a datagram may go now. */
  canSend(nowNs: number): boolean {
    if (this.rateBytesPerNs === Number.POSITIVE_INFINITY) return true;
    this.refill(nowNs);
    return this.tokensBytes > 0;
  }

  /** A datagram of `lengthBytes` went. */
  onSent(lengthBytes: number): void {
    if (this.rateBytesPerNs !== Number.POSITIVE_INFINITY) this.tokensBytes -= lengthBytes;
  }

  /** When the next datagram may go (ns): now if it may, else when the tokens are back above zero. */
  nextSendNs(nowNs: number): number {
    if (this.canSend(nowNs)) return nowNs;
    return nowNs + Math.ceil((1 - this.tokensBytes) / this.rateBytesPerNs);
  }

  private refill(nowNs: number): void {
    if (nowNs > this.lastNs) {
      if (this.rateBytesPerNs !== Number.POSITIVE_INFINITY)
        this.tokensBytes = Math.min(this.burstBytes, this.tokensBytes + (nowNs - this.lastNs) * this.rateBytesPerNs);
      this.lastNs = nowNs;
    }
  }
}
