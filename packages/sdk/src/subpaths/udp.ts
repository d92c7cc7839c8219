/** @flux/sdk/udp: @flux/udp whole, as that package exports it (below the facade: see index.ts). */
export * from '@flux/udp';
