import { FluxError } from '@flux/ring';

/** Thrown when an io_uring socket is asked for where io_uring is not usable; `reason` says why. */
export class UringUnavailableError extends FluxError {
  constructor(readonly reason: string) {
    super('ERR_FLUX_URING_UNAVAILABLE', `io_uring is not usable here: ${reason}`);
  }
}
