import type { ChildProcess } from 'node:child_process';

export type HostMessage = { type: string; [key: string]: unknown };

export interface Host {
  readonly child: ChildProcess;
  send(message: HostMessage): void;
  next(type: string, deadline: number): Promise<HostMessage>;
  exited(deadline: number): Promise<number | null>;
}

export function startHost(
  commandPrefix: readonly string[],
  script: string,
  args: readonly string[],
  options?: { env?: Record<string, string>; children?: ChildProcess[] },
): Host;
export function killAll(children: readonly ChildProcess[]): void;

/** In a host process: messages from the test by type, each awaited until `deadlineMs`; a watchdog exits the host after it. */
export function connectToTest(deadlineMs: number): { send(message: HostMessage): void; next(type: string): Promise<HostMessage>; leave(): void };
