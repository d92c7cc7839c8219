/** @flux/sdk/journal: @flux/journal whole, as that package exports it (below the facade: see index.ts). */
export * from '@flux/journal';
