/** @flux/sdk/reliable: @flux/reliable whole, as that package exports it (below the facade: see index.ts). */
export * from '@flux/reliable';
