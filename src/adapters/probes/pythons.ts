// The Python interpreters this host has: on PATH, and under pyenv, asdf, conda and uv's managed
// Pythons. Each one is asked for its version and implementation (a folder's name is not trusted),
// and two finds of one interpreter are one candidate.
import { readdir, realpath } from 'node:fs/promises';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import type { PythonCandidate, PythonOrigin } from '../../core/replay/local.js';
import { isExecutable, statKind } from '../fs.js';
import { runProcess } from '../process.js';

const IDENTIFY = "import sys, os, platform; sys.stdout.write('%d.%d.%d%s|%s|%s' % (sys.version_info[0], sys.version_info[1], sys.version_info[2], '' if sys.version_info[3] == 'final' else {'alpha': 'a', 'beta': 'b', 'candidate': 'rc'}[sys.version_info[3]] + str(sys.version_info[4]), platform.python_implementation(), os.path.realpath(sys.executable)))";

async function subfolders(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir, { withFileTypes: true })).filter((e) => e.isDirectory() || e.isSymbolicLink()).map((e) => join(dir, e.name)).sort();
  } catch {
    return [];
  }
}

/** Asks one interpreter what it is; null when it does not answer as a Python. */
export async function identifyPython(path: string, origin: PythonOrigin, timeoutMs = 10_000): Promise<PythonCandidate | null> {
  const result = await runProcess(path, ['-I', '-c', IDENTIFY], { timeoutMs, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/' } });
  if (result.outcome !== 'ok') return null;
  const m = /^(\d+\.\d+\.\d+(?:(?:a|b|rc)\d+)?)\|([A-Za-z]+)\|(\/.*)$/.exec(result.stdout.trim());
  if (!m) return null;
  return { version: m[1] as string, implementation: m[2] as string, path: m[3] as string, origin };
}

/** Where each manager keeps its Pythons on this host, from its usual variables and folders. */
export async function candidatePaths(env: NodeJS.ProcessEnv, minor: string): Promise<Array<{ path: string; origin: PythonOrigin }>> {
  const home = env.HOME ?? homedir();
  const found: Array<{ path: string; origin: PythonOrigin }> = [];
  const inBin = async (prefix: string, origin: PythonOrigin) => {
    // A manager's folder named for another minor (pyenv's 3.10.13, uv's cpython-3.12.1-linux-...) is not asked at all.
    const named = /(?:^|[^0-9.])(\d+\.\d+)(?:\.\d+)?/.exec(prefix.slice(prefix.lastIndexOf('/') + 1));
    if (named !== null && origin !== 'conda' && named[1] !== minor) return;
    for (const name of [`python${minor}`, 'python3', 'python']) {
      const candidate = join(prefix, 'bin', name);
      if (await isExecutable(candidate)) {
        found.push({ path: candidate, origin });
        return;
      }
    }
  };
  for (const dir of await subfolders(join(env.PYENV_ROOT ?? join(home, '.pyenv'), 'versions'))) await inBin(dir, 'pyenv');
  for (const dir of await subfolders(join(env.ASDF_DATA_DIR ?? join(home, '.asdf'), 'installs', 'python'))) await inBin(dir, 'asdf');
  const uvRoot = env.UV_PYTHON_INSTALL_DIR ?? join(env.XDG_DATA_HOME ?? join(home, '.local', 'share'), 'uv', 'python');
  for (const dir of await subfolders(uvRoot)) await inBin(dir, 'uv');
  const condaRoots = new Set<string>();
  if (env.CONDA_EXE) condaRoots.add(join(env.CONDA_EXE, '..', '..'));
  for (const name of ['miniconda3', 'anaconda3', 'miniforge3', 'mambaforge', '.conda']) condaRoots.add(join(home, name));
  for (const root of condaRoots) {
    if ((await statKind(root)) !== 'directory') continue;
    await inBin(root, 'conda');
    for (const dir of await subfolders(join(root, 'envs'))) await inBin(dir, 'conda');
  }
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    for (const name of [`python${minor}`, 'python3', 'python']) {
      const candidate = join(dir, name);
      if ((await statKind(candidate)) === 'file' && (await isExecutable(candidate))) found.push({ path: candidate, origin: 'PATH' });
    }
  }
  return found;
}

/** Every interpreter found, identified, once each (by its real executable). */
export async function findPythons(env: NodeJS.ProcessEnv, minor: string): Promise<PythonCandidate[]> {
  const paths = await candidatePaths(env, minor);
  const seen = new Set<string>();
  const out: PythonCandidate[] = [];
  // A few at a time: each start is tens of milliseconds.
  for (let i = 0; i < paths.length; i += 4) {
    const batch = await Promise.all(paths.slice(i, i + 4).map((p) => identifyPython(p.path, p.origin)));
    for (const candidate of batch) {
      if (candidate === null) continue;
      const key = await realpath(candidate.path).catch(() => candidate.path);
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(candidate);
    }
  }
  return out;
}
