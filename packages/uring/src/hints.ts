/**
 * Placement hints: CPU affinity of the calling thread, NUMA binding of a buffer's pages,
 * and huge pages. Each returns whether it took effect and, if not, why; none throws
 * because the system said no (bad arguments do throw). Without the native addon every
 * hint reports `applied: false` with the loader's reason.
 */
import { type HintOutcome, type HugePageResidency, loadNative, type NumaReport } from './native.js';
import { FluxRangeError, FluxTypeError } from '@flux/ring';

function unavailable<T extends object>(extra: T): HintOutcome & T {
  return { applied: false, reason: loadNative().reason, ...extra };
}

/** Pins the calling thread (main or worker) to `cpus`. */
export function setAffinity(cpus: number[]): HintOutcome & { cpus: number[] } {
  const { binding } = loadNative();
  return binding ? binding.setAffinity(cpus) : unavailable({ cpus: [] });
}

export function getAffinity(): number[] {
  return loadNative().binding?.getAffinity() ?? [];
}

export function numaInfo(): NumaReport {
  const { binding, reason } = loadNative();
  return binding ? binding.numaInfo() : { nodes: [0], source: reason, transparentHugePages: 'unknown', hugePagesReserved: 0 };
}

/** Binds the buffer's whole pages to NUMA node `node` (MPOL_BIND, moving touched pages). */
export function bindToNode(buffer: ArrayBufferView, node: number): HintOutcome & { bytes: number } {
  const { binding } = loadNative();
  return binding ? binding.bindToNode(buffer, node) : unavailable({ bytes: 0 });
}

/** Advises transparent huge pages for the buffer's 2 MiB-aligned interior. */
export function adviseHugePages(buffer: ArrayBufferView): HintOutcome & { bytes: number; mode: string } {
  const { binding } = loadNative();
  return binding ? binding.adviseHugePages(buffer) : unavailable({ bytes: 0, mode: 'unknown' });
}

/**
 * How much of the memory under `buffer` the kernel backs with transparent huge pages now:
 * `adviseHugePages` only asks, and the pages are chosen at first touch (or later, by
 * khugepaged). Reads /proc/self/smaps; a mapping the buffer only partly covers counts whole.
 */
export function hugePageResidency(buffer: ArrayBufferView): HugePageResidency {
  const { binding, reason } = loadNative();
  if (binding) return binding.hugePageResidency(buffer);
  if (!ArrayBuffer.isView(buffer)) throw new FluxTypeError(`buffer must be a TypedArray or DataView, got ${String(buffer)}`);
  return { hugePageBytes: 0, reason };
}

/**
 * An ArrayBuffer on MAP_HUGETLB pages when some are reserved, else on ordinary pages
 * advised for transparent huge pages; without the addon, a plain ArrayBuffer.
 */
export function allocateHugeBuffer(bytes: number): { buffer: ArrayBuffer; hugeTlb: boolean; transparent: boolean; reason: string } {
  const { binding, reason } = loadNative();
  if (binding) return binding.allocateHugeBuffer(bytes);
  if (!Number.isInteger(bytes) || bytes < 1) throw new FluxRangeError(`bytes must be a positive integer, got ${String(bytes)}`);
  return { buffer: new ArrayBuffer(bytes), hugeTlb: false, transparent: false, reason };
}
