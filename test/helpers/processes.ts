// Whether a process is still there, for tests that prove nothing outlives what they stopped.
import { readFileSync } from 'node:fs';

/** True when pid is gone or only a zombie waiting to be reaped (it runs nothing any more). */
export function processGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return true;
  }
  try {
    // /proc/<pid>/stat: "pid (comm) state ..."; comm may hold spaces, so read after the last ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z';
  } catch {
    return true;
  }
}

/**
 * Resolves once pid is gone. A killed process takes a moment to die after the signal is sent, so
 * this waits for the fact instead of a fixed time; the test's own timeout bounds the wait.
 */
export async function processEnds(pid: number): Promise<void> {
  while (!processGone(pid)) await new Promise((resolve) => setTimeout(resolve, 20));
}
