/**
 * `@flux/ring/mapped`: the pieces of the ring's cross-process machinery other Flux packages
 * build on (@flux/journal): files mapped by the registered provider, futex waits on their
 * words, and process identities for liveness. Not a user API: semver covers `@flux/ring`'s
 * main entry, this subpath moves with the Flux packages that use it.
 */
export { loadOwner, ownerAlive, type ProcessIdentity, processAlive, selfIdentity, storeOwner } from './process-identity.js';
export { adoptMapped, type SharedMemoryProvider, SharedMemoryUnavailableError, sharedMemoryProvider } from './shared-memory.js';
export { isWaitable, notifyOn, waitOn, waitOnAsync } from './wait/futex.js';
