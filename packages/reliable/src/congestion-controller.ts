/**
 * What the sender asks of congestion control (no I/O; time is a parameter). The sender
 * sends new DATA only while the bytes the receiver has not consumed stay under
 * min(receiver's window, `windowBytes`), and only as fast as the pacer lets it:
 *
 *   in flight (unconsumed) < min(receiver window, congestion window)     sender.ts
 *   STATUS advanced consumed by N bytes   --> onAck(N, ...)              the window grows
 *   losses over the threshold             --> onCongestionEvent(...)     the window shrinks
 *   (loss-rate.ts), once per round trip
 *   nothing unconsumed for a while        --> onIdleRestart(...)         back to the initial window
 *
 * Two kinds: 'cubic' (cubic.ts, the default) and 'static' (this file): no congestion window
 * and no pacing, only the receiver's window: for a dedicated link, where the stream should
 * take all of it, and where a loss is never a sign of someone else's traffic.
 */

export interface CongestionController {
  /** The congestion window (bytes); Infinity: none. */
  readonly windowBytes: number;
  /** The pacer's rate (bytes per second); Infinity: unpaced. */
  readonly pacingBytesPerSecond: number;
  /** Whether the window is in slow start. */
  readonly slowStart: boolean;
  /** `ackedBytes` newly consumed; `cwndLimited`: the window, not the application or the receiver, limited sending since the last ack. */
  onAck(ackedBytes: number, rttNs: number, cwndLimited: boolean, nowNs: number): void;
  /** A loss the receiver reported (the sender calls it at most once per round trip). */
  onCongestionEvent(nowNs: number): void;
  /** The sender was idle (nothing unconsumed) for `idleNs`: may restart the window. */
  onIdleRestart(idleNs: number, rttNs: number, nowNs: number): void;
}

/** 'static': the receiver's window only. */
export class StaticWindow implements CongestionController {
  readonly windowBytes = Number.POSITIVE_INFINITY;
  readonly pacingBytesPerSecond = Number.POSITIVE_INFINITY;
  readonly slowStart = false;
  onAck(): void {}
  onCongestionEvent(): void {}
  onIdleRestart(): void {}
}
