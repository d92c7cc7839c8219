/**
 * Which losses are congestion: the sender's loss rate over a sample of at least
 * LOSS_SAMPLE_MIN_DATAGRAMS datagrams, against a threshold (BBRv2's idea: a loss rate at or
 * under about 2% is what a lossy link does, above it the queue is overflowing).
 *
 *   sent  += every DATA datagram's bytes (new and resent)      sender.ts
 *   lost  += every resent DATA datagram's bytes                (a NAK asked for it again)
 *   congestion  ⇔  lost > thresholdRatio x max(sent, minSampleBytes)
 *   sample      halves both once sent reaches twice the sample (a decaying window of the
 *               last one to two samples), and restarts after each congestion event
 *
 * With thresholdRatio 0 every loss is congestion: RFC 9438's CUBIC as TCP runs it. A burst
 * (a queue overflowing drops many datagrams in a row) crosses the threshold within the round
 * trip it happens in; 1% random loss on a link nobody else shares stays under it.
 */
export class LossRate {
  private sentBytes = 0;
  private lostBytes = 0;
  private readonly thresholdRatio: number;
  private readonly minSampleBytes: number;

  constructor(thresholdRatio: number, minSampleBytes: number) {
    this.thresholdRatio = thresholdRatio;
    this.minSampleBytes = minSampleBytes;
  }

  onSent(bytes: number): void {
    this.sentBytes += bytes;
    if (this.sentBytes >= 2 * this.minSampleBytes) {
      this.sentBytes /= 2;
      this.lostBytes /= 2;
    }
  }

  onResent(bytes: number): void {
    this.lostBytes += bytes;
    this.onSent(bytes);
  }

  /** Whether the losses seen are congestion's (see above). */
  get congested(): boolean {
    return this.lostBytes > this.thresholdRatio * Math.max(this.sentBytes, this.minSampleBytes);
  }

  /** After a congestion event: the next one needs new evidence. */
  restart(): void {
    this.sentBytes = 0;
    this.lostBytes = 0;
  }
}
