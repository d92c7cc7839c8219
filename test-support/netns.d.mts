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
  setTcpCongestionControl(name: string): void;
  tcpCongestionControl(): { a: string; b: string };
  setRateLimit(rateBitsPerSecond: number, options?: { queueMs?: number }): void;
  rateLimitCounters(): { sentPackets: number; dropped: number; overlimits: number };
  close(): void;
}

export function netnsUnavailableReason(): string | null;
export function lossUnavailableReason(options?: { install?: boolean }): string | null;
export function rateLimitUnavailableReason(): string | null;
export function openNetnsPair(options?: {
  lossPercent?: number;
  subnet?: string;
  wirePackets?: boolean;
}): { pair: NetnsPair; reason: null } | { pair: null; reason: string };
