// A host process for the multi-host tests: `node script args...` run under a command prefix
// (`ip netns exec NS`, from netns.mjs's pair.commandPrefixA/B), talking to the test over IPC.
// Every wait takes a deadline; a host that exits or cannot start fails the wait at once,
// with its stderr. Used by packages/udp's and packages/reliable's namespace tests.
//
//   test --spawn--> ip netns exec NS node host.mjs ...  --IPC--> { type: 'ready' | 'done' | ... }
//   startHost() in the test                                  connectToTest() in the host
import { spawn } from 'node:child_process';

/**
 * Starts `script` with `args` under `commandPrefix` (environment: this process's plus `env`);
 * the child is added to `children` so the test can kill whatever is left in afterAll.
 * Returns { child, send(message), next(type, deadline), exited(deadline) }.
 */
export function startHost(commandPrefix, script, args, { env = {}, children = [] } = {}) {
  const [command, ...prefixArgs] = commandPrefix;
  const child = spawn(command, [...prefixArgs, process.execPath, script, ...args], {
    stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
    env: { ...process.env, ...env },
  });
  children.push(child);
  const name = script.slice(script.lastIndexOf('/') + 1);
  const inbox = [];
  let stderr = '';
  let ended = null;
  let waiter = null;
  child.stderr.on('data', (chunk) => (stderr += chunk));
  child.on('message', (message) => {
    inbox.push(message);
    waiter?.();
  });
  child.on('error', (error) => {
    ended = `${name} could not start: ${error.message}`;
    waiter?.();
  });
  child.on('exit', (code, signal) => {
    ended = `${name} exited (code ${code}, signal ${signal})`;
    waiter?.();
  });
  return {
    child,
    send: (message) => child.send(message),
    /** The host's next message of `type`; rejects if it exits first or `deadline` (ms since the epoch) passes. */
    next(type, deadline) {
      return new Promise((resolve, reject) => {
        const fail = (why) => {
          clearTimeout(timer);
          waiter = null;
          reject(new Error(`${why}${stderr ? `\n${name} stderr:\n${stderr}` : ''}`));
        };
        const timer = setTimeout(() => fail(`${name}: no '${type}' message before the deadline`), Math.max(1, deadline - Date.now()));
        const take = () => {
          const index = inbox.findIndex((m) => m.type === type);
          if (index >= 0) {
            clearTimeout(timer);
            waiter = null;
            resolve(inbox.splice(index, 1)[0]);
          } else if (ended) fail(ended);
        };
        waiter = take;
        take();
      });
    },
    /** Resolves with the exit code, or rejects at `deadline`. */
    exited(deadline) {
      return new Promise((resolve, reject) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve(child.exitCode);
        const timer = setTimeout(() => reject(new Error(`${name} did not exit before the deadline`)), Math.max(1, deadline - Date.now()));
        child.once('exit', (code) => {
          clearTimeout(timer);
          resolve(code);
        });
      });
    },
  };
}

/** Kills every child still running (for afterAll). */
export function killAll(children) {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

// ---- in the host process -------------------------------------------------------------

/** Messages from the test over IPC, taken by type; every wait has a deadline. */
export function connectToTest(deadlineMs) {
  const inbox = [];
  let waiter = null;
  process.on('message', (message) => {
    inbox.push(message);
    waiter?.();
  });
  let leaving = false;
  process.on('disconnect', () => {
    if (!leaving) process.exit(3); // the test went away
  });
  // Watchdog: never outlive the test's deadline, whatever happens.
  setTimeout(
    () => {
      console.error(`host ${process.argv[1]}: deadline, exiting`);
      process.exit(4);
    },
    Math.max(1, deadlineMs - Date.now()) + 5_000,
  ).unref();
  return {
    send: (message) => process.send(message),
    next(type) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => {
            waiter = null;
            reject(new Error(`no '${type}' message from the test before the deadline`));
          },
          Math.max(1, deadlineMs - Date.now()),
        );
        const take = () => {
          const index = inbox.findIndex((m) => m.type === type);
          if (index < 0) return;
          clearTimeout(timer);
          waiter = null;
          resolve(inbox.splice(index, 1)[0]);
        };
        waiter = take;
        take();
      });
    },
    leave() {
      leaving = true;
      process.disconnect();
    },
  };
}
