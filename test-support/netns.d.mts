export const DEFAULT_SUBNET: string;

export interface NetnsPair {
  readonly namespaceA: string;
  readonly namespaceB: string;
  readonly addressA: string;
  readonly addressB: string;
  readonly vethA: string;
  readonly vethB: string;
  readonly commandPrefixA: readonly string[];
  readonly commandPrefixB: readonly string[];
  lossPercent: number;
  setLossPercent(percent: number): void;
  lossCounters(): { arrived: number; dropped: number };
  close(): void;
}

export function netnsUnavailableReason(): string | null;
export function lossUnavailableReason(options?: { install?: boolean }): string | null;
export function openNetnsPair(options?: {
  lossPercent?: number;
  subnet?: string;
  wirePackets?: boolean;
}): { pair: NetnsPair; reason: null } | { pair: null; reason: string };
