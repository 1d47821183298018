// Finds the Python interpreters the tests run against, one way for every test and for the set-up:
// pyenv's versions (under `pyenv root`, else $PYENV_ROOT or ~/.pyenv), then pythonX.Y on PATH.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';

let pyenvRootCache;

function pyenvRoot() {
  if (pyenvRootCache !== undefined) return pyenvRootCache;
  const asked = spawnSync('pyenv', ['root'], { encoding: 'utf8', timeout: 30_000 });
  const fromPyenv = asked.status === 0 ? asked.stdout.trim() : '';
  pyenvRootCache = fromPyenv || process.env.PYENV_ROOT || join(homedir(), '.pyenv');
  return pyenvRootCache;
}

function onPath(name) {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && !dir.includes('.pyenv/shims') && existsSync(join(dir, name))) return join(dir, name);
  }
  return null;
}

function versionOf(python) {
  const r = spawnSync(python, ['-c', 'import sys; print("%d.%d.%d" % sys.version_info[:3])'], { encoding: 'utf8', timeout: 30_000 });
  return r.status === 0 ? r.stdout.trim() : null;
}

/**
 * The interpreter of `version`: a full version ('3.6.15') must match exactly, a minor ('3.6')
 * takes the newest patch release. Null when this machine has none.
 */
export function findPython(version) {
  const exact = /^\d+\.\d+\.\d+$/.test(version);
  const root = join(pyenvRoot(), 'versions');
  const installed = existsSync(root) ? readdirSync(root) : [];
  const match = installed
    .filter((v) => (exact ? v === version : v === version || v.startsWith(`${version}.`)) && /^\d+\.\d+\.\d+$/.test(v))
    .sort((a, b) => a.localeCompare(b, undefined, { numeric: true }))
    .pop();
  if (match && existsSync(join(root, match, 'bin', 'python'))) return join(root, match, 'bin', 'python');
  const minor = version.split('.').slice(0, 2).join('.');
  const candidate = onPath(`python${minor}`);
  if (candidate === null) return null;
  if (!exact) return candidate;
  return versionOf(candidate) === version ? candidate : null;
}
