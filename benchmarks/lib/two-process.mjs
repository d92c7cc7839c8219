// Two-process plumbing for the network benchmarks: the parent forks a receiver and a
// sender (the same script with --role), talks to them over IPC, and every wait has a deadline.
// A child may run under a command prefix (e.g. `ip netns exec NS`, see test-support/netns.mjs).
import { fork, spawn } from 'node:child_process';
import { verify } from './harness.mjs';

const EXIT_GRACE_MS = 300; // measurePair: how long a child may take to exit after reporting

const parentMessages = [];
let parentWaiter = null;

export function nextParentMessage(type, deadline) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no '${type}' message from the parent`)), Math.max(1, deadline - Date.now()));
    const take = () => {
      const index = parentMessages.findIndex((m) => m.type === type);
      if (index < 0) return false;
      clearTimeout(timer);
      parentWaiter = null;
      resolve(parentMessages.splice(index, 1)[0]);
      return true;
    };
    if (!take()) parentWaiter = take;
  });
}

/** In a child: waits for the parent's "start", runs handlers[role](start), reports the result or the error, and leaves. */
export async function runChild(role, handlers, deadlineMs) {
  process.on('message', (message) => {
    parentMessages.push(message);
    parentWaiter?.();
  });
  let leaving = false;
  process.on('disconnect', () => {
    if (!leaving) process.exit(1); // the parent died
  });
  const start = await nextParentMessage('start', Date.now() + deadlineMs);
  try {
    // CPU time of the whole process (every thread: JS, libuv's pool, io_uring's) from the
    // start message to the result: setup, the run and the shutdown it needs.
    const cpuBefore = process.cpuUsage();
    const result = await handlers[role](start);
    const cpu = process.cpuUsage(cpuBefore);
    process.send({ type: 'result', ...result, cpuMicros: cpu.user + cpu.system });
  } catch (error) {
    process.send({ type: 'error', message: String(error?.stack ?? error) });
  }
  leaving = true;
  process.disconnect();
}

/**
 * In the parent: forks `scriptPath --role role` and returns a handle to talk to it. With a
 * `commandPrefix` (e.g. ['ip', 'netns', 'exec', 'ns']) it runs `...commandPrefix node
 * scriptPath --role role` instead, with the same IPC channel (the prefix must exec node and
 * pass on file descriptor 3 and the environment, as `ip netns exec` does; the parent's
 * execArgv is not passed on).
 */
export function startChild(scriptPath, role, { commandPrefix = [] } = {}) {
  const stdio = ['ignore', 'ignore', 'inherit', 'ipc'];
  const child =
    commandPrefix.length === 0
      ? fork(scriptPath, ['--role', role], { stdio })
      : spawn(commandPrefix[0], [...commandPrefix.slice(1), process.execPath, scriptPath, '--role', role], { stdio });
  const inbox = [];
  let waiter = null;
  let exited = null;
  child.on('message', (message) => {
    inbox.push(message);
    waiter?.();
  });
  child.on('exit', (code, signal) => {
    exited = `${role} exited (code ${code}, signal ${signal})`;
    waiter?.();
  });
  child.on('error', (error) => {
    exited = `${role}: ${error.message}`;
    waiter?.();
  });
  return {
    child,
    send: (message) => child.send(message),
    /** Resolves with the child's next message of `type`; rejects on an error report, exit or deadline. */
    next(type, deadline) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => {
            waiter = null;
            reject(new Error(`${role}: no '${type}' before the deadline`));
          },
          Math.max(1, deadline - Date.now()),
        );
        const take = () => {
          const index = inbox.findIndex((m) => m.type === type || m.type === 'error');
          if (index >= 0) {
            const message = inbox.splice(index, 1)[0];
            clearTimeout(timer);
            waiter = null;
            if (message.type === 'error') reject(new Error(`${role}: ${message.message}`));
            else resolve(message);
          } else if (exited) {
            clearTimeout(timer);
            waiter = null;
            reject(new Error(exited));
          }
        };
        waiter = take;
        take();
      });
    },
    stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill();
    },
    exited: () => new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', resolve))),
  };
}

/**
 * One measurement of an indexed-message bench (see indexed-messages.mjs): forks the
 * receiver, waits for its port, forks the sender, tells the receiver how many were sent,
 * and checks what every such bench checks (nothing wrong, nothing past what was sent,
 * enough to time, the loss adds up). Returns the sender's result, the receiver's counts,
 * and the common figures: { sender, received, perSecond, sent, verified, lost, deliveredPercent,
 * cpuNsPerMessage, senderCpuNsPerMessage, receiverCpuNsPerMessage } (CPU: both processes'
 * user + system time from their start message to their result, per verified message).
 * Options: `start` (fields added to both children's start message), `receiverPrefix` and
 * `senderPrefix` (command prefixes, see startChild), `route` (async (receiverPort) => the
 * port the sender is given instead, e.g. a relay's).
 */
export async function measurePair(scriptPath, variant, durationMs, deadlineMs, what = 'messages', options = {}) {
  const { start = {}, receiverPrefix = [], senderPrefix = [], route = async (port) => port } = options;
  const deadline = Date.now() + deadlineMs;
  const receiverProcess = startChild(scriptPath, 'receiver', { commandPrefix: receiverPrefix });
  // Started together (each takes a while to load); the sender waits for its start message.
  const senderProcess = startChild(scriptPath, 'sender', { commandPrefix: senderPrefix });
  try {
    receiverProcess.send({ ...start, type: 'start', variant });
    const { port } = await receiverProcess.next('ready', deadline);
    senderProcess.send({ ...start, type: 'start', variant, port: await route(port), durationMs });
    const sender = await senderProcess.next('result', deadline);
    const { sent } = sender;
    receiverProcess.send({ type: 'sent', sent });
    const received = await receiverProcess.next('result', deadline);
    // Both have reported; one still running after EXIT_GRACE_MS (a transport retrying its
    // shutdown handshake to a peer that has gone) is ended by stop() below.
    let graceTimer;
    await Promise.race([
      Promise.all([receiverProcess.exited(), senderProcess.exited()]),
      new Promise((resolve) => (graceTimer = setTimeout(resolve, EXIT_GRACE_MS))),
    ]);
    clearTimeout(graceTimer);
    verify(received.bad === 0, `${variant}: ${received.bad} ${what} wrong, duplicated or out of order`);
    verify(received.expected <= sent, `${variant}: received index ${received.expected - 1} of ${sent} sent`);
    verify(received.timedMessages > 0 && received.elapsedMs > 0, `${variant}: received ${received.verified} of ${sent}: too few to time`);
    const lost = sent - received.verified;
    verify(lost === received.gaps + (sent - received.expected), `${variant}: lost count does not add up`);
    return {
      sender,
      received,
      perSecond: (received.timedMessages / received.elapsedMs) * 1000,
      sent,
      verified: received.verified,
      lost,
      deliveredPercent: (received.verified / sent) * 100,
      cpuNsPerMessage: ((sender.cpuMicros + received.cpuMicros) * 1000) / received.verified,
      senderCpuNsPerMessage: (sender.cpuMicros * 1000) / received.verified,
      receiverCpuNsPerMessage: (received.cpuMicros * 1000) / received.verified,
    };
  } finally {
    receiverProcess.stop();
    senderProcess.stop();
  }
}
