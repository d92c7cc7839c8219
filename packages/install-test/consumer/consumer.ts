// A TypeScript app's use of the published types (checked with tsc, not run).
import { type AddonSource, BACK_PRESSURED, type Capability, capability, jsonCodec, Publication, ReliablePublication, Ring } from '@flux/sdk';
import { UringUdpSocket } from '@flux/sdk/uring';

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

// Typed messages: the codec types the publication (offer takes an Order, not bytes).
interface Order {
  id: number;
}
export async function sendOrder(order: Order): Promise<number> {
  const publication: Publication<Order> = await Publication.open({ host: '127.0.0.1', port: 40_000, streamId: 2, codec: jsonCodec<Order>() });
  return publication.offer(order);
}
export const nativeSocket: typeof UringUdpSocket = UringUdpSocket;
