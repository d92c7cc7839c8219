/**
 * Placement hints: CPU affinity of the calling thread, NUMA binding of a buffer's pages,
 * and huge pages. Each returns whether it took effect and, if not, why; none throws
 * because the system said no (bad arguments do throw). Without the native addon every
 * hint reports `applied: false` with the loader's reason.
 */
import { type HintOutcome, type HugePageResidency, loadNative, type NumaReport } from './native.js';
import { FluxRangeError, FluxTypeError } from '@flux/ring';
import { describe, requireInteger } from '@flux/ring/validate';

/** CPU numbers a cpu_set_t holds (CPU_SETSIZE). */
const MAX_CPUS = 1024;
/** NUMA nodes a node mask holds here. */
const MAX_NUMA_NODE = 63;
/** Largest allocateHugeBuffer (the native bound). */
const MAX_HUGE_BUFFER_BYTES = 2 ** 40;

/** A TypedArray or DataView (an ArrayBuffer, as the native side takes, too). */
function requireBuffer(name: string, value: unknown): ArrayBufferView {
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return value as ArrayBufferView;
  throw new FluxTypeError(`${name} must be a TypedArray or DataView, got ${describe(value)}`);
}

function requireCpus(cpus: unknown): number[] {
  if (!Array.isArray(cpus)) throw new FluxTypeError(`cpus must be an array of CPU numbers, got ${describe(cpus)}`);
  if (cpus.length === 0) throw new FluxRangeError('cpus must name at least one CPU, got an array (length 0)');
  cpus.forEach((cpu, i) => {
    requireInteger(`cpus[${i}]`, cpu, 0, MAX_CPUS - 1);
  });
  return cpus as number[];
}

function unavailable<T extends object>(extra: T): HintOutcome & T {
  return { applied: false, reason: loadNative().reason, ...extra };
}

/** Pins the calling thread (main or worker) to `cpus`. */
export function setAffinity(cpus: number[]): HintOutcome & { cpus: number[] } {
  requireCpus(cpus);
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
  requireBuffer('buffer', buffer);
  requireInteger('node', node, 0, MAX_NUMA_NODE);
  const { binding } = loadNative();
  return binding ? binding.bindToNode(buffer, node) : unavailable({ bytes: 0 });
}

/** Advises transparent huge pages for the buffer's 2 MiB-aligned interior. */
export function adviseHugePages(buffer: ArrayBufferView): HintOutcome & { bytes: number; mode: string } {
  requireBuffer('buffer', buffer);
  const { binding } = loadNative();
  return binding ? binding.adviseHugePages(buffer) : unavailable({ bytes: 0, mode: 'unknown' });
}

/**
 * How much of the memory under `buffer` the kernel backs with transparent huge pages now:
 * `adviseHugePages` only asks, and the pages are chosen at first touch (or later, by
 * khugepaged). Reads /proc/self/smaps; a mapping the buffer only partly covers counts whole.
 */
export function hugePageResidency(buffer: ArrayBufferView): HugePageResidency {
  requireBuffer('buffer', buffer);
  const { binding, reason } = loadNative();
  if (binding) return binding.hugePageResidency(buffer);
  return { hugePageBytes: 0, reason };
}

/**
 * An ArrayBuffer on MAP_HUGETLB pages when some are reserved, else on ordinary pages
 * advised for transparent huge pages; without the addon, a plain ArrayBuffer.
 */
export function allocateHugeBuffer(bytes: number): { buffer: ArrayBuffer; hugeTlb: boolean; transparent: boolean; reason: string } {
  requireInteger('bytes', bytes, 1, MAX_HUGE_BUFFER_BYTES);
  const { binding, reason } = loadNative();
  if (binding) return binding.allocateHugeBuffer(bytes);
  return { buffer: new ArrayBuffer(bytes), hugeTlb: false, transparent: false, reason };
}
