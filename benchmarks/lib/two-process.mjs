// Two-process plumbing for the network benchmarks: the parent forks a receiver and a
// sender (the same script with --role), talks to them over IPC, and every wait has a deadline.
import { fork } from 'node:child_process';

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
    const result = await handlers[role](start);
    process.send({ type: 'result', ...result });
  } catch (error) {
    process.send({ type: 'error', message: String(error?.stack ?? error) });
  }
  leaving = true;
  process.disconnect();
}

/** In the parent: forks `scriptPath --role role` and returns a handle to talk to it. */
export function startChild(scriptPath, role) {
  const child = fork(scriptPath, ['--role', role], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
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
        const timer = setTimeout(() => {
          waiter = null;
          reject(new Error(`${role}: no '${type}' before the deadline`));
        }, Math.max(1, deadline - Date.now()));
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
