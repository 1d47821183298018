// Ctrl-C, SIGTERM and SIGHUP while a command works. The first one aborts the work through an
// AbortSignal, so every step stops, cleans up and the command ends with its message and exit code.
// A second one means "now": every process group we started is killed, every staging folder is
// removed, the caller's last cleanup gets a moment, and we exit with 128 + the signal's number.
// Without handlers Node would die at once, leaving detached trainings running and folders behind.
import { discardAllStagingSync } from './fs.js';
import { killAllGroups } from './process.js';

const SIGNALS = { SIGINT: 2, SIGTERM: 15, SIGHUP: 1 } as const;
type Handled = keyof typeof SIGNALS;

/** How long a last cleanup (removing containers) may take after a second signal. */
const LAST_CLEANUP_MS = 3000;

export interface Interruptible {
  signal: AbortSignal;
  /** Removes the handlers; call once the work has ended. */
  release(): void;
}

/**
 * Handles the signals until release(). `lastCleanup` runs (bounded) when a second signal forces
 * the exit: what the work made outside our process (a container) and cannot be left to `finally`.
 */
export function interruptible(lastCleanup?: () => Promise<void>): Interruptible {
  const controller = new AbortController();
  const handlers = new Map<Handled, () => void>();
  for (const name of Object.keys(SIGNALS) as Handled[]) {
    const handler = () => {
      if (!controller.signal.aborted) {
        controller.abort(name);
        return;
      }
      killAllGroups();
      discardAllStagingSync();
      const code = 128 + SIGNALS[name];
      const exit = () => process.exit(code);
      if (lastCleanup === undefined) exit();
      else {
        setTimeout(exit, LAST_CLEANUP_MS).unref();
        lastCleanup().then(exit, exit);
      }
    };
    handlers.set(name, handler);
    process.on(name, handler);
  }
  return {
    signal: controller.signal,
    release: () => {
      for (const [name, handler] of handlers) process.removeListener(name, handler);
    },
  };
}
