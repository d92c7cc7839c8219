/** @flux/sdk/ring: @flux/ring whole, as that package exports it (below the facade: see index.ts). */
export * from '@flux/ring';
