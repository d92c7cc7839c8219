/**
 * What Flux can use on this machine, and why not where it cannot: the report `flux info`
 * prints. Every field is measured here (the io_uring probe makes a few system calls, once
 * per process), none is assumed.
 */
import os from 'node:os';
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

/** The report as lines of text. */
export function formatInfo(report: FluxInfo = info()): string {
  const operations = Object.entries(report.ioUring.operations)
    .filter(([, has]) => has)
    .map(([name]) => name);
  return [
    `node        ${report.node} on ${report.platform}`,
    `cpu         ${report.cpu}, ${report.cores} cores; this thread may run on [${report.affinity.join(', ')}]`,
    `io_uring    ${report.ioUring.usable ? `usable (kernel ${report.ioUring.kernelRelease})` : `not usable: ${report.ioUring.reason}`}`,
    ...(report.ioUring.usable ? [`            operations: ${operations.join(', ')}`] : []),
    `udp backend ${report.udpBackend.backend}${report.udpBackend.reason ? ` (${report.udpBackend.reason})` : ''}`,
    `numa        nodes [${report.numa.nodes.join(', ')}] (${report.numa.source})`,
    `huge pages  ${report.numa.hugePagesReserved} reserved; transparent: ${report.numa.transparentHugePages}`,
  ].join('\n');
}
