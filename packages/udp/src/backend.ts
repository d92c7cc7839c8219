/**
 * Which kernel interface a socket's datagrams go through:
 *
 *   'io_uring'  @flux/uring: a batch of datagrams per system call, completions reaped in
 *               the same call when the kernel finishes them inline, multishot receive
 *   'dgram'     node:dgram (libuv): one sendmsg per datagram, one callback per receive
 *
 * 'auto' (the default) takes io_uring when @flux/uring's capability report says it is
 * usable and node:dgram otherwise; FLUX_URING=0 forces node:dgram on any machine. Both
 * behave the same (same frames, counters, ordering and back-pressure) and pass the same
 * tests; the chosen backend and, for node:dgram, the reason are readable on the object.
 * With NODE_DEBUG=flux, 'auto' falling back to node:dgram is said once per reason on stderr.
 */
import { debuglog } from 'node:util';
import { capability, UringUnavailableError } from '@flux/uring';
import { optionalChoice } from '@flux/ring/validate';

export type Backend = 'io_uring' | 'dgram';
export type BackendOption = 'auto' | Backend;

export interface BackendChoice {
  backend: Backend;
  /** Why node:dgram is used ('' for io_uring, 'asked for' when the option said 'dgram'). */
  reason: string;
}

/** Resolves the `backend` option; 'io_uring' where it is not usable throws UringUnavailableError. */
export function chooseBackend(option: BackendOption | undefined): BackendChoice {
  const asked = optionalChoice('backend', option, ['auto', 'io_uring', 'dgram'] as const, 'auto');
  if (asked === 'dgram') return { backend: 'dgram', reason: 'asked for' };
  const report = capability();
  if (report.usable) return { backend: 'io_uring', reason: '' };
  if (asked === 'io_uring') throw new UringUnavailableError(report.reason);
  return { backend: 'dgram', reason: report.reason };
}

/**
 * Opens a path on the backend `option` chooses. In 'auto', an io_uring socket that cannot
 * be set up (say, too little locked memory to register its buffers) falls back to
 * node:dgram, and the choice says why; asked for explicitly, the error is thrown.
 */
const debug = debuglog('flux');
const toldReasons = new Set<string>();

/** NODE_DEBUG=flux: says once per reason that 'auto' fell back to node:dgram (backendReason has it too). */
function tellFallback(reason: string): void {
  if (toldReasons.has(reason)) return;
  toldReasons.add(reason);
  debug("backend 'auto' is using node:dgram: %s", reason);
}

export async function openOnBackend<Path>(
  option: BackendOption | undefined,
  openUring: () => Promise<Path>,
  openDgram: () => Promise<Path>,
): Promise<{ path: Path; choice: BackendChoice }> {
  const choice = chooseBackend(option);
  if (choice.backend === 'io_uring') {
    try {
      return { path: await openUring(), choice };
    } catch (error) {
      if (option === 'io_uring') throw error;
      const reason = `io_uring socket setup failed: ${(error as Error).message}`;
      tellFallback(reason);
      return { path: await openDgram(), choice: { backend: 'dgram', reason } };
    }
  }
  if (option === undefined || option === 'auto') tellFallback(choice.reason);
  return { path: await openDgram(), choice };
}
