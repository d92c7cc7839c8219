/**
 * The knobs of a ChaosLink, their defaults, and their validation. Every option is checked
 * once, in the constructor; a bad one throws naming the option and its value.
 *
 * ```
 *   push ──► burst? ──► lost? ──► copies: 1, or 2 if duplicated ──► per copy:
 *                                   due = nowNs + delayNs + U[0, jitterNs]
 *                                             (+ reorderDelayNs if reordered)
 *                                   bytes = copy, or a corrupted copy
 * ```
 */
import { FluxRangeError, FluxTypeError } from '@flux/ring';

export interface ChaosOptions {
  /** Safe integer. The same seed, pushes and nowNs values give identical output. */
  seed: number;
  /** Independent random loss, 0..100. Default 0. */
  lossPercent?: number;
  /** Chance, 0..100, that a datagram starts a loss burst. Default 0. */
  burstStartPercent?: number;
  /** Datagrams lost in a burst, the first included; integer >= 1. Required when burstStartPercent > 0. */
  burstLength?: number;
  /** Chance, 0..100, that a second copy is delivered (after its own delay). Default 0. */
  duplicatePercent?: number;
  /** Chance, 0..100, that a copy is held back reorderDelayNs more, so later ones overtake it. Default 0. */
  reorderPercent?: number;
  /** Extra hold of a reordered copy, integer ns >= 0. Default 0. */
  reorderDelayNs?: number;
  /** Base one-way delay, integer ns >= 0. Default 0. */
  delayNs?: number;
  /** Uniform extra delay 0..jitterNs (integer ns >= 0) per copy; can also reorder. Default 0. */
  jitterNs?: number;
  /** Chance, 0..100, that a copy is corrupted detectably (see chaos-link.ts). Default 0. */
  corruptPercent?: number;
  /** Copies held at once, integer >= 1; beyond it a copy is dropped and counted as overflowed. */
  maxQueued?: number;
  /** Longest datagram push accepts, integer >= 0; longer pushes throw RangeError. */
  maxDatagramBytes?: number;
}

export const DEFAULT_MAX_QUEUED = 65_536;
export const DEFAULT_MAX_DATAGRAM_BYTES = 65_536;
const MAX_PERCENT = 100;

/** Every option, resolved to a number. */
export interface ResolvedChaosOptions {
  readonly seed: number;
  readonly lossPercent: number;
  readonly burstStartPercent: number;
  readonly burstLength: number;
  readonly duplicatePercent: number;
  readonly reorderPercent: number;
  readonly reorderDelayNs: number;
  readonly delayNs: number;
  readonly jitterNs: number;
  readonly corruptPercent: number;
  readonly maxQueued: number;
  readonly maxDatagramBytes: number;
}

const KNOWN_OPTIONS: ReadonlySet<string> = new Set([
  'seed',
  'lossPercent',
  'burstStartPercent',
  'burstLength',
  'duplicatePercent',
  'reorderPercent',
  'reorderDelayNs',
  'delayNs',
  'jitterNs',
  'corruptPercent',
  'maxQueued',
  'maxDatagramBytes',
]);

function checkNumber(name: string, value: unknown): asserts value is number {
  if (typeof value !== 'number') throw new FluxTypeError(`${name} must be a number, got ${String(value)}`);
}

function percent(name: string, value: unknown): number {
  if (value === undefined) return 0;
  checkNumber(name, value);
  if (!(value >= 0 && value <= MAX_PERCENT)) throw new FluxRangeError(`${name} must be in 0..100, got ${value}`);
  return value;
}

function integerAtLeast(name: string, value: unknown, min: number, defaultValue: number): number {
  if (value === undefined) return defaultValue;
  checkNumber(name, value);
  if (!Number.isSafeInteger(value) || value < min) {
    throw new FluxRangeError(`${name} must be an integer >= ${min}, got ${value}`);
  }
  return value;
}

export function resolveChaosOptions(options: ChaosOptions): ResolvedChaosOptions {
  if (typeof options !== 'object' || options === null) {
    throw new FluxTypeError(`options must be an object, got ${String(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (!KNOWN_OPTIONS.has(key)) throw new FluxTypeError(`unknown chaos option ${key}`);
  }
  const { seed } = options;
  checkNumber('seed', seed);
  if (!Number.isSafeInteger(seed)) throw new FluxRangeError(`seed must be a safe integer, got ${seed}`);
  const burstStartPercent = percent('burstStartPercent', options.burstStartPercent);
  if (burstStartPercent > 0 && options.burstLength === undefined) {
    throw new FluxTypeError(`burstLength is required when burstStartPercent is ${burstStartPercent}`);
  }
  return {
    seed,
    lossPercent: percent('lossPercent', options.lossPercent),
    burstStartPercent,
    burstLength: integerAtLeast('burstLength', options.burstLength, 1, 1),
    duplicatePercent: percent('duplicatePercent', options.duplicatePercent),
    reorderPercent: percent('reorderPercent', options.reorderPercent),
    reorderDelayNs: integerAtLeast('reorderDelayNs', options.reorderDelayNs, 0, 0),
    delayNs: integerAtLeast('delayNs', options.delayNs, 0, 0),
    jitterNs: integerAtLeast('jitterNs', options.jitterNs, 0, 0),
    corruptPercent: percent('corruptPercent', options.corruptPercent),
    maxQueued: integerAtLeast('maxQueued', options.maxQueued, 1, DEFAULT_MAX_QUEUED),
    maxDatagramBytes: integerAtLeast('maxDatagramBytes', options.maxDatagramBytes, 0, DEFAULT_MAX_DATAGRAM_BYTES),
  };
}
