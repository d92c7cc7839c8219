// A TypeScript app's use of the published types (checked with tsc, not run).
import { type AddonSource, BACK_PRESSURED, type Capability, capability, ReliablePublication, Ring } from '@flux/sdk';

const ring: Ring = Ring.create({ capacity: 64, maxMessageBytes: 8 });
const claimed: number | typeof BACK_PRESSURED = ring.createProducer().tryClaim(1, 8);
const report: Capability = capability();
const source: AddonSource | undefined = report.addon?.source;
export async function send(bytes: Uint8Array): Promise<boolean> {
  const publication = await ReliablePublication.open({ host: '127.0.0.1', port: 40_000, streamId: 1 });
  const offered = publication.offer(bytes);
  await publication.close();
  return offered !== BACK_PRESSURED && claimed !== BACK_PRESSURED && source !== undefined;
}
