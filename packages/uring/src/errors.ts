/** Thrown when an io_uring socket is asked for where io_uring is not usable; `reason` says why. */
export class UringUnavailableError extends Error {
  readonly code = 'ERR_FLUX_URING_UNAVAILABLE';
  constructor(readonly reason: string) {
    super(`io_uring is not usable here: ${reason}`);
    this.name = 'UringUnavailableError';
  }
}
