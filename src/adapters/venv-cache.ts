// The cache of rebuilt virtual environments: whole ones under their key, builds in staging
// folders named after their process (so a killed build's folder is recognised and never reused),
// and the moves that put a finished build, an output or a data link in place.
import { mkdir, readdir, readFile, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathExists } from './fs.js';

/** The file that says a cached environment is whole: written last, before the rename into place. */
export const VENV_MARKER = '.snapshot-venv.json';
export const STAGING_PREFIX = '.staging-';

/** $XDG_CACHE_HOME/snapshot/venvs, else ~/.cache/snapshot/venvs. */
export function venvCacheRoot(env: NodeJS.ProcessEnv): string {
  const base = env.XDG_CACHE_HOME && env.XDG_CACHE_HOME.startsWith('/') ? env.XDG_CACHE_HOME : join(env.HOME ?? homedir(), '.cache');
  return join(base, 'snapshot', 'venvs');
}

/** Whether the process that named a staging folder still runs (a killed build's folder is never reused, only removed). */
function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Staging folders of builds whose process is gone: left by a crash or a kill, never trusted. */
export async function staleStaging(root: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(root);
  } catch {
    return [];
  }
  return names
    .filter((name) => {
      const m = /^\.staging-[0-9a-f]+-(\d+)-[0-9a-f]+$/.exec(name);
      return name.startsWith(STAGING_PREFIX) && (m === null || !pidAlive(Number(m[1])));
    })
    .map((name) => join(root, name));
}

/** The cached environments, whole ones and stale staging, for `snapshot prune --venvs`. */
export async function listCachedVenvs(env: NodeJS.ProcessEnv): Promise<{ root: string; venvs: string[]; staging: string[] }> {
  const root = venvCacheRoot(env);
  let names: string[] = [];
  try {
    names = await readdir(root);
  } catch {
    names = [];
  }
  const venvs: string[] = [];
  for (const name of names.sort()) if (/^[0-9a-f]{32}$/.test(name) && (await pathExists(join(root, name, VENV_MARKER)))) venvs.push(join(root, name));
  return { root, venvs, staging: await staleStaging(root) };
}

/** A built venv carries its staging path in its scripts (#! lines, activate): moved, they must name where it is. */
export async function relocateScripts(venv: string, from: string, to: string): Promise<void> {
  const bin = join(venv, 'bin');
  for (const name of await readdir(bin)) {
    const file = join(bin, name);
    const info = await stat(file).catch(() => null);
    if (info === null || !info.isFile() || info.size > 1024 * 1024) continue;
    const body = await readFile(file);
    if (body.includes(0)) continue;
    const text = body.toString('utf8');
    if (!text.includes(from)) continue;
    await writeFile(file, text.split(from).join(to), { mode: info.mode });
  }
}

/** Renames a finished build into place; false when another build of the same key got there first. */
export async function moveFolderInto(staging: string, final: string, marker: string): Promise<boolean> {
  try {
    await rename(staging, final);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if ((code === 'ENOTEMPTY' || code === 'EEXIST') && (await pathExists(join(final, marker)))) return false;
    throw error;
  }
}

/** Moves one file (within one file system: the replay's folder), making its folder. */
export async function moveFile(from: string | Buffer, to: string): Promise<void> {
  await mkdir(dirname(to), { recursive: true });
  await rename(from, to);
}

/** Replaces what is at `placed` (ours: the exported tree) with a link to `source`. */
export async function linkInPlaceOf(placed: string, source: string): Promise<void> {
  await rm(placed, { recursive: true, force: true });
  await mkdir(dirname(placed), { recursive: true });
  await symlink(source, placed);
}
