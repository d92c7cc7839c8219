/** @flux/sdk/uring: @flux/uring whole, as that package exports it (below the facade: see index.ts). */
export * from '@flux/uring';
