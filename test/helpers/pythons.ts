// The interpreters a test needs, found one way (test/setup/pythons.js: pyenv, then PATH). A test
// whose interpreter is missing is skipped visibly on a developer's machine, and fails under CI,
// where .ci/run must provide every one.
import { describe, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { findPython } from '../setup/pythons.js';

export { findPython };

/** The interpreter, or null after a loud notice; under CI a missing one fails the suite. */
export function requirePython(version: string, purpose: string): string | null {
  const python = findPython(version);
  if (python !== null) return python;
  const message = `no Python ${version} on this machine (pyenv or PATH), so ${purpose} is not checked`;
  if (process.env.CI) throw new Error(`${message}: CI must provide it (scripts/setup-system.sh)`);
  console.warn(`\n*** SKIPPING: ${message}. Install it with pyenv to run it. ***\n`);
  return null;
}

/** `describe` when the condition holds, else `describe.skip` (listed as skipped, never passed). */
export const describeIf = (condition: boolean): typeof describe => (condition ? describe : (describe.skip as typeof describe));
export const itIf = (condition: boolean): typeof it => (condition ? it : (it.skip as typeof it));

/** The interpreter's own full version, e.g. 3.6.15. */
export function pythonVersion(python: string): string {
  return execFileSync(python, ['-c', 'import platform; print(platform.python_version())'], { encoding: 'utf8' }).trim();
}
