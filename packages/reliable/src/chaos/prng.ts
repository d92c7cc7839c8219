/**
 * A small, fast, seeded pseudo-random number generator for tests and chaos models: sfc32
 * (Chris Doty-Humphrey's "small fast chaotic" generator, 128 bits of state, 32-bit outputs).
 * Not cryptographic. The same (seed, stream) always yields the same sequence, on every
 * platform, so a failing run can be replayed from its seed.
 *
 * ```
 *   seed (safe integer) --+--> low 32 bits  --> a
 *                         +--> high 21 bits --> b         state: a b c d (uint32 each)
 *   stream (uint32) --------------------------> c  ^ STREAM_MIX
 *   1 ----------------------------------------> d         (d counts: period >= 2^32)
 *
 *   then WARM_UP_ROUNDS outputs are thrown away, so nearby seeds diverge at once.
 *
 *   one round:   t = a + b + d;  d = d + 1;  a = b ^ (b >>> 9);
 *                b = c + (c << 3);  c = (c <<< 21) + t;  output t
 * ```
 *
 * Different `stream` values with one seed give unrelated sequences: a model that needs
 * several independent decisions (loss, delay, ...) gives each its own stream, so enabling
 * one does not shift the random numbers another sees.
 *
 * Nothing here allocates after construction.
 */
import { FluxRangeError, FluxTypeError } from '@flux/ring';

/** Outputs discarded after seeding (the usual sfc32 warm-up). */
export const WARM_UP_ROUNDS = 15;
/** Mixed into the stream word so stream 0 does not start with c = 0. */
const STREAM_MIX = 0x9e3779b9;
const UINT32_RANGE = 0x1_0000_0000;

export class Sfc32 {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  /**
   * @param seed any safe integer (negative ones too).
   * @param stream 0..2^32-1: independent sequences from one seed.
   */
  constructor(seed: number, stream = 0) {
    if (typeof seed !== 'number') throw new FluxTypeError(`seed must be a number, got ${String(seed)}`);
    if (!Number.isSafeInteger(seed)) throw new FluxRangeError(`seed must be a safe integer, got ${seed}`);
    if (typeof stream !== 'number') throw new FluxTypeError(`stream must be a number, got ${String(stream)}`);
    if (!Number.isInteger(stream) || stream < 0 || stream >= UINT32_RANGE) {
      throw new FluxRangeError(`stream must be an integer in 0..2^32-1, got ${stream}`);
    }
    this.a = seed >>> 0;
    this.b = Math.floor(seed / UINT32_RANGE) >>> 0;
    this.c = (stream ^ STREAM_MIX) >>> 0;
    this.d = 1;
    for (let round = 0; round < WARM_UP_ROUNDS; round++) this.nextUint32();
  }

  /** Uniform in 0..2^32-1. */
  nextUint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1), in steps of 2^-32. */
  nextFloat(): number {
    return this.nextUint32() / UINT32_RANGE;
  }

  /** Uniform integer in 0..boundExclusive-1, without modulo bias; boundExclusive in 1..2^32. */
  nextInt(boundExclusive: number): number {
    if (!Number.isInteger(boundExclusive) || boundExclusive < 1 || boundExclusive > UINT32_RANGE) {
      throw new FluxRangeError(`boundExclusive must be an integer in 1..2^32, got ${boundExclusive}`);
    }
    // Reject the top partial block of size 2^32 mod bound, so every residue is equally likely.
    const limit = UINT32_RANGE - (UINT32_RANGE % boundExclusive);
    let value = this.nextUint32();
    while (value >= limit) value = this.nextUint32();
    return value % boundExclusive;
  }

  /** True with probability percent/100; percent 0 is never and 100 always. */
  chancePercent(percent: number): boolean {
    return this.nextFloat() * 100 < percent;
  }
}
