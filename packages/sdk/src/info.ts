/**
 * What Flux can use on this machine, and why not where it cannot: the report `flux info`
 * prints. Every field is measured here (the io_uring probe makes a few system calls, once
 * per process), none is assumed.
 */
import os from 'node:os';
import { FluxTypeError } from '@flux/ring';
import { describe } from '@flux/ring/validate';
import { capability, getAffinity, numaInfo } from '@flux/uring';

export interface FluxInfo {
  node: string;
  platform: string;
  cpu: string;
  cores: number;
  /** CPUs this thread may run on. */
  affinity: number[];
  /** Which backend @flux/udp's 'auto' takes here, and why when it is node:dgram. */
  udpBackend: { backend: 'io_uring' | 'dgram'; reason: string };
  ioUring: ReturnType<typeof capability>;
  numa: ReturnType<typeof numaInfo>;
}

export function info(): FluxInfo {
  const report = capability();
  const cpus = os.cpus();
  return {
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    cpu: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    affinity: getAffinity(),
    udpBackend: report.usable ? { backend: 'io_uring', reason: '' } : { backend: 'dgram', reason: report.reason },
    ioUring: report,
    numa: numaInfo(),
  };
}

type Kind = 'string' | 'number' | 'boolean' | 'object' | 'array';

/** The field at `path` of `report` (a FluxInfo, as info() makes it) is of `kind`, or a FluxTypeError names it. */
function field(report: unknown, path: string, kind: Kind): unknown {
  let value: unknown = report;
  for (const key of path.split('.').slice(1)) {
    value = value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
  }
  const ok =
    kind === 'array' ? Array.isArray(value) : kind === 'object' ? value !== null && typeof value === 'object' && !Array.isArray(value) : typeof value === kind;
  if (!ok)
    throw new FluxTypeError(`${path} must be ${kind === 'array' || kind === 'object' ? 'an' : 'a'} ${kind} (a report from info()), got ${describe(value)}`);
  return value;
}

/** Every field formatInfo prints, checked, so a wrong report is a FluxTypeError and never half a report. */
function checkReport(report: unknown): void {
  field(report, 'report', 'object');
  for (const path of ['report.node', 'report.platform', 'report.cpu', 'report.udpBackend.backend', 'report.udpBackend.reason']) {
    field(report, path, 'string');
  }
  field(report, 'report.cores', 'number');
  for (const [i, cpu] of (field(report, 'report.affinity', 'array') as unknown[]).entries()) {
    if (typeof cpu !== 'number') throw new FluxTypeError(`report.affinity[${i}] must be a number (a report from info()), got ${describe(cpu)}`);
  }
  field(report, 'report.ioUring.usable', 'boolean');
  field(report, 'report.ioUring.reason', 'string');
  field(report, 'report.ioUring.kernelRelease', 'string');
  field(report, 'report.ioUring.operations', 'object');
  for (const [i, node] of (field(report, 'report.numa.nodes', 'array') as unknown[]).entries()) {
    if (typeof node !== 'number') throw new FluxTypeError(`report.numa.nodes[${i}] must be a number (a report from info()), got ${describe(node)}`);
  }
  field(report, 'report.numa.source', 'string');
  field(report, 'report.numa.hugePagesReserved', 'number');
  field(report, 'report.numa.transparentHugePages', 'string');
}

/** The report as lines of text; a `report` that is not shaped like info()'s throws a FluxTypeError naming the field. */
export function formatInfo(report: FluxInfo = info()): string {
  checkReport(report);
  const operations = Object.entries(report.ioUring.operations)
    .filter(([, has]) => has)
    .map(([name]) => name);
  return [
    `node        ${report.node} on ${report.platform}`,
    `cpu         ${report.cpu}, ${report.cores} cores; this thread may run on [${report.affinity.join(', ')}]`,
    ...(report.ioUring.addon ? [`addon       ${report.ioUring.addon.path} (${report.ioUring.addon.source})`] : []),
    `io_uring    ${report.ioUring.usable ? `usable (kernel ${report.ioUring.kernelRelease})` : `not usable: ${report.ioUring.reason}`}`,
    ...(report.ioUring.usable ? [`            operations: ${operations.join(', ')}`] : []),
    `udp backend ${report.udpBackend.backend}${report.udpBackend.reason ? ` (${report.udpBackend.reason})` : ''}`,
    `numa        nodes [${report.numa.nodes.join(', ')}] (${report.numa.source})`,
    `huge pages  ${report.numa.hugePagesReserved} reserved; transparent: ${report.numa.transparentHugePages}`,
  ].join('\n');
}
