/**
 * What one receiving session allocates, and how large its parts are: the near ring of its
 * window, its FEC history, and the SessionMemory a subscription states (`sessionMemory`).
 */
import { FrameLayout } from '@flux/udp';
import { MAX_PARITY_GROUP_DATAGRAMS } from './control-layout.js';
import { MAX_RING_FRAMES, MIN_RING_FRAMES } from './defaults.js';
import { LOSS_DETECTOR_BYTES } from './loss-detector.js';
import { ParityDecoder } from './parity-decoder.js';
import { ReceiveWindow } from './receive-window.js';
import type { ReceiverOptions } from './receiver.js';

/** Near ring size: a frame is at least FRAME_HEADER_BYTES, so a window holds at most windowBytes / 4 frames. */
export function ringFramesFor(windowBytes: number): number {
  let frames = MIN_RING_FRAMES;
  while (frames < windowBytes / FrameLayout.FRAME_HEADER_BYTES && frames < MAX_RING_FRAMES) frames *= 2;
  return frames;
}

/** FEC history a session keeps, in datagrams: two of the largest groups. */
export const PARITY_HISTORY_DATAGRAMS = 2 * MAX_PARITY_GROUP_DATAGRAMS;

/**
 * What one session allocates, in typed-array bytes, and when. Nothing is allocated for a
 * SETUP until its cookie came back (setup-cookies.ts), and the large parts only when the
 * session needs them; each stays for the session's life. Objects (the SessionImage, its
 * maps) add a few hundred bytes on top.
 */
export interface SessionMemory {
  /** When the session begins: its loss detector. */
  readonly beginBytes: number;
  /** At its first datagram held out of order (or while paused): the receive window. */
  readonly windowBytes: number;
  /** At its first PARITY datagram: the FEC history. */
  readonly fecBytes: number;
  /** At its first fragmented message: the reassembly buffer (in @flux/udp's DatagramReader). */
  readonly reassemblyBytes: number;
  /** All of them: the most one session holds. */
  readonly maxBytes: number;
}

export function sessionMemoryFor(
  options: Pick<ReceiverOptions, 'windowBytes' | 'windowDatagrams' | 'maxDatagramBytes'>,
  maxMessageBytes: number,
): SessionMemory {
  const beginBytes = LOSS_DETECTOR_BYTES;
  const windowBytes = ReceiveWindow.bytesFor(ringFramesFor(options.windowBytes), options.windowDatagrams, options.maxDatagramBytes);
  const fecBytes = ParityDecoder.bytesFor(PARITY_HISTORY_DATAGRAMS, options.maxDatagramBytes);
  return { beginBytes, windowBytes, fecBytes, reassemblyBytes: maxMessageBytes, maxBytes: beginBytes + windowBytes + fecBytes + maxMessageBytes };
}
