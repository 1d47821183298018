// The cache of rebuilt virtual environments: whole ones under their key, builds in staging
// folders named after their process (so a killed build's folder is recognised and never reused),
// the move that puts a finished build in place, and the copies and links that collect an output
// or place data without writing through a link out of the replay's folder.
import { copyFile, lstat, mkdir, readdir, readFile, readlink, realpath, rename, stat, symlink, writeFile } from 'node:fs/promises';
import { constants as fsConstants } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { homedir, hostname } from 'node:os';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { UserInputError } from '../errors.js';
import { pathExists } from './fs.js';

/** The file that says a cached environment is whole: written last, before the rename into place. */
export const VENV_MARKER = '.snapshot-venv.json';
export const STAGING_PREFIX = '.staging-';

/** $XDG_CACHE_HOME/snapshot/venvs, else ~/.cache/snapshot/venvs. */
export function venvCacheRoot(env: NodeJS.ProcessEnv): string {
  const base = env.XDG_CACHE_HOME && env.XDG_CACHE_HOME.startsWith('/') ? env.XDG_CACHE_HOME : join(env.HOME ?? homedir(), '.cache');
  return join(base, 'snapshot', 'venvs');
}

/** What this host's interpreters answered when asked what they are (findPythons' cache), beside the venvs. */
export function pythonIdentityCache(env: NodeJS.ProcessEnv): string {
  return join(dirname(venvCacheRoot(env)), 'pythons.json');
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

/** This host's name as a staging folder carries it: letters, digits, dots and dashes only. */
function hostTag(): string {
  return hostname().replace(/[^A-Za-z0-9.-]/g, '_').slice(0, 64) || 'host';
}

/**
 * A staging folder's name for a build of `key` by this process: the host and the PID say who
 * builds it, so that a cache on a home shared over NFS is never cleaned by another host that
 * cannot see the builder's process.
 */
export function stagingName(key: string): string {
  return `${STAGING_PREFIX}${key}-${hostTag()}-${process.pid}-${randomBytes(4).toString('hex')}`;
}

/** A staging folder of another host is taken as abandoned only after this long untouched. */
const FOREIGN_STAGING_MS = 24 * 60 * 60_000;

/**
 * Staging folders of builds that are gone: this host's whose process no longer runs, another
 * host's untouched for a day, and any whose name says neither. Left by a crash or a kill, never
 * trusted.
 */
export async function staleStaging(root: string, now = Date.now()): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(root);
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const name of names.filter((n) => n.startsWith(STAGING_PREFIX))) {
    const m = /^\.staging-[0-9a-z]+-([A-Za-z0-9._-]+)-(\d+)-[0-9a-f]{8}$/.exec(name);
    if (m === null) out.push(join(root, name));
    else if (m[1] === hostTag()) {
      if (!pidAlive(Number(m[2]))) out.push(join(root, name));
    } else {
      const info = await lstat(join(root, name)).catch(() => null);
      if (info !== null && now - info.mtimeMs > FOREIGN_STAGING_MS) out.push(join(root, name));
    }
  }
  return out.sort();
}

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

/**
 * The distributions a venv holds, by their metadata folders' names (`numpy-2.1.3.dist-info`),
 * sorted: recorded when the venv is built, and compared before it is reused, so a training that
 * ran `pip install` into the cached venv does not pass its change on to the next replay.
 */
export async function installedDistributions(venv: string): Promise<string[]> {
  const out: string[] = [];
  for (const lib of ['lib', 'lib64']) {
    let pythons: string[] = [];
    try {
      pythons = (await readdir(join(venv, lib))).filter((n) => n.startsWith('python'));
    } catch {
      continue;
    }
    for (const py of pythons) {
      try {
        for (const name of await readdir(join(venv, lib, py, 'site-packages'))) if (/\.(dist|egg)-info$/.test(name)) out.push(name);
      } catch {
        // No site-packages there.
      }
    }
  }
  return [...new Set(out)].sort();
}

/** The marker a finished venv carries: what it was built from, and what it held then. */
export async function readVenvMarker(venv: string): Promise<{ installed?: unknown } | null> {
  try {
    const parsed = JSON.parse(await readFile(join(venv, VENV_MARKER), 'utf8')) as unknown;
    return typeof parsed === 'object' && parsed !== null ? (parsed as { installed?: unknown }) : null;
  } catch {
    return null;
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

/**
 * Copies one file (a link to a file: what it points at), making its folder. The export is left as
 * it is. A clone where the file system has them (btrfs, XFS: no second copy of a large model on
 * disk), a plain copy elsewhere.
 */
export async function copyOut(from: string | Buffer, to: string): Promise<void> {
  await mkdir(dirname(to), { recursive: true });
  await copyFile(from, to, fsConstants.COPYFILE_FICLONE);
}

/** The real path of `path`, or of its nearest folder that exists (what a write there would go through). */
export async function nearestRealPath(path: string, depth = 0): Promise<string> {
  let at = resolve(path);
  for (;;) {
    const info = await lstat(at).catch(() => null);
    if (info !== null) {
      const real = await realpath(at).catch(() => null);
      if (real !== null) return real;
      // A link to nothing (yet): where it leads is where a write would go.
      if (info.isSymbolicLink() && depth < 40) return nearestRealPath(resolve(dirname(at), await readlink(at)), depth + 1);
      return realpath(dirname(at));
    }
    const up = dirname(at);
    if (up === at) return at;
    at = up;
  }
}

/** Whether `path` (or what exists of it) really lies inside `root`'s real path, links followed; `strict`: and is not the root itself. */
export async function reallyInside(root: string, path: string, strict = false): Promise<{ inside: boolean; real: string; rootReal: string }> {
  const rootReal = await realpath(root);
  const real = await nearestRealPath(path);
  const rel = relative(rootReal, real);
  // Not there yet, its nearest folder the root: what is made there is inside. There, and the root (a link to it): not.
  const exists = (await lstat(path).catch(() => null)) !== null;
  const within = rel === '' ? !(strict && exists) : !rel.startsWith('..') && !isAbsolute(rel);
  return { inside: within, real, rootReal };
}

/**
 * Puts the data at `placed` inside `codeRoot` (the replay's export) as a link to `source`, never
 * removing anything: what the export already holds there is the commit's copy and is kept
 * ('kept'). A link is made only where the real path of its folder is inside the export's, so a
 * committed symlink on the way (to a folder of the user's) is refused, not written through.
 */
export async function placeDataLink(codeRoot: string, placed: string, source: string): Promise<'kept' | 'linked'> {
  if ((await lstat(placed).catch(() => null)) !== null) return 'kept';
  const parent = dirname(placed);
  const where = await reallyInside(codeRoot, parent);
  if (!where.inside) {
    throw new UserInputError('DATA_PLACEMENT_UNSAFE', `the data's place in the exported code, ${placed}, goes through a link out of the export (its folder is really ${where.real}): linking the data there would write into that folder`, {
      hint: `A committed symlink in the repository points outside it: put the data where that link leads (${where.real}), or replay in a container (--engine docker), which mounts it.`,
      data: { placed, real: where.real },
    });
  }
  await mkdir(parent, { recursive: true });
  await symlink(source, placed);
  return 'linked';
}
