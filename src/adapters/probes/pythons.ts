// The Python interpreters this host has: on PATH, and under pyenv, asdf, conda and uv's managed
// Pythons. Each one is asked for its version and implementation (a folder's name is not trusted),
// and two finds of one interpreter are one candidate.
import { readdir, realpath } from 'node:fs/promises';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import type { PythonCandidate, PythonOrigin } from '../../core/replay/local.js';
import { fileStamp, isExecutable, readOptionalText, statKind, writeFileAtomic } from '../fs.js';
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

/**
 * Version managers' shims (pyenv's, asdf's) are scripts that pick one of the versions already
 * listed from the manager's own folders, by settings of the moment: asking them costs a shell and
 * the manager's start, and says nothing the versions do not.
 */
function isShim(path: string, env: NodeJS.ProcessEnv, home: string): boolean {
  const shims = [join(env.PYENV_ROOT ?? join(home, '.pyenv'), 'shims'), join(env.ASDF_DATA_DIR ?? join(home, '.asdf'), 'shims')];
  return shims.some((dir) => path.startsWith(`${dir}/`));
}

/**
 * What each interpreter answered, by its real path and file stamp (device, inode, size, mtime):
 * starting every Python on the host is most of a warm replay's check, and an interpreter file
 * that changed in any way is asked again.
 */
interface IdentityCache {
  version: 1;
  pythons: Record<string, { stamp: string; version: string; implementation: string; path: string }>;
}

async function readIdentityCache(file: string | undefined): Promise<IdentityCache> {
  const empty: IdentityCache = { version: 1, pythons: {} };
  if (file === undefined) return empty;
  try {
    const parsed = JSON.parse((await readOptionalText(file, 'the interpreter cache')) ?? '{}') as Partial<IdentityCache>;
    if (parsed.version !== 1 || typeof parsed.pythons !== 'object' || parsed.pythons === null) return empty;
    const pythons: IdentityCache['pythons'] = {};
    // Only well-formed entries: the file is ours, but a truncated or edited one is simply asked again.
    for (const [key, e] of Object.entries(parsed.pythons)) {
      if (typeof e?.stamp === 'string' && typeof e.version === 'string' && /^\d+\.\d+\.\d+((a|b|rc)\d+)?$/.test(e.version) && typeof e.implementation === 'string' && /^[A-Za-z]+$/.test(e.implementation) && typeof e.path === 'string' && e.path.startsWith('/')) pythons[key] = e;
    }
    return { version: 1, pythons };
  } catch {
    return empty;
  }
}

/** Every interpreter found, identified, once each (by its real executable). `cacheFile` keeps the answers for the next call. */
export async function findPythons(env: NodeJS.ProcessEnv, minor: string, cacheFile?: string): Promise<PythonCandidate[]> {
  const home = env.HOME ?? homedir();
  const paths = (await candidatePaths(env, minor)).filter((p) => !isShim(p.path, env, home));
  const cache = await readIdentityCache(cacheFile);
  const fresh: IdentityCache = { version: 1, pythons: {} };
  // One candidate per real file, the first origin that found it winning (pyenv before PATH).
  const byReal = new Map<string, { path: string; origin: PythonOrigin; stamp: string }>();
  for (const p of paths) {
    const real = await realpath(p.path).catch(() => p.path);
    if (!byReal.has(real)) byReal.set(real, { ...p, stamp: await fileStamp(real) });
  }
  const seen = new Set<string>();
  const out: PythonCandidate[] = [];
  const entries = [...byReal.entries()];
  // A few at a time: each start is tens of milliseconds.
  for (let i = 0; i < entries.length; i += 4) {
    const batch = await Promise.all(
      entries.slice(i, i + 4).map(async ([real, p]) => {
        const known = cache.pythons[real];
        if (known !== undefined && known.stamp === p.stamp && p.stamp !== 'missing') return { real, stamp: p.stamp, candidate: { version: known.version, implementation: known.implementation, path: known.path, origin: p.origin } };
        return { real, stamp: p.stamp, candidate: await identifyPython(p.path, p.origin) };
      }),
    );
    for (const { real, stamp, candidate } of batch) {
      if (candidate === null) continue;
      fresh.pythons[real] = { stamp, version: candidate.version, implementation: candidate.implementation, path: candidate.path };
      const key = await realpath(candidate.path).catch(() => candidate.path);
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(candidate);
    }
  }
  if (cacheFile !== undefined && JSON.stringify(fresh.pythons) !== JSON.stringify(cache.pythons)) {
    // Kept for every minor asked so far: another snapshot's minor is not forgotten.
    const merged: IdentityCache = { version: 1, pythons: { ...cache.pythons, ...fresh.pythons } };
    await writeFileAtomic(cacheFile, `${JSON.stringify(merged)}\n`).catch(() => undefined);
  }
  return out;
}
