// The pure rules of the code tree a build context carries: which names may enter it, in which
// order its entries come, which modes and times they get, and what a .dockerignore leaves out.
import dockerignore from '@balena/dockerignore';

/**
 * The mtime of every entry of a build context: fixed, so the same snapshot gives the same bytes.
 * 1980-01-01 rather than 1970: Python's zipfile refuses to zip a file dated before 1980, and a
 * training may zip its own code or outputs.
 */
export const CONTEXT_MTIME = new Date('1980-01-01T00:00:00.000Z');

export type EntryKind = 'file' | 'directory' | 'symlink';

/**
 * Modes as git knows them, and nothing more: a file is executable or not (0755 or 0644), a folder
 * 0755, a link 0777. git archive's own modes depend on the user's tar.umask.
 */
export function normaliseMode(kind: EntryKind, mode: number): number {
  if (kind === 'directory') return 0o755;
  if (kind === 'symlink') return 0o777;
  return (mode & 0o111) !== 0 ? 0o755 : 0o644;
}

/**
 * The key entries are sorted by: the path's UTF-8 bytes, a folder's with a '/' after it. That is
 * git's tree order, so git archive's output is already in it, and a submodule's entries can be
 * put where they belong (after `sub.py`, which git lists after the submodule's own entry `sub`).
 */
export function orderKey(path: string, kind: EntryKind): Buffer {
  return Buffer.from(kind === 'directory' ? `${path}/` : path, 'utf8');
}

export function compareKeys(a: Buffer, b: Buffer): number {
  return Buffer.compare(a, b);
}

/**
 * Why a path from a tree may not enter the context, or null when it may: it must be relative, with
 * no empty, '.' or '..' segment (nothing lands outside code/), no '.git' segment (git itself never
 * checks one out), valid UTF-8 (a name tar-stream had to replace a byte of would be another file)
 * and no NUL.
 */
export function treePathProblem(path: string): string | null {
  if (path === '') return 'it is empty';
  if (path.startsWith('/')) return 'it is absolute';
  if (path.includes('\0')) return 'it contains a NUL byte';
  if (path.includes('\ufffd')) return 'it is not valid UTF-8';
  for (const segment of path.split('/')) {
    if (segment === '' || segment === '.' || segment === '..') return `it has a ${JSON.stringify(segment)} segment`;
    if (segment.toLowerCase() === '.git') return 'it has a .git segment';
  }
  return null;
}

/** A symlink's target may point anywhere (it is kept as a link, never followed), but must be text. */
export function linkTargetProblem(target: string): string | null {
  if (target === '') return 'its target is empty';
  if (target.includes('\0')) return 'its target contains a NUL byte';
  if (target.includes('\ufffd')) return 'its target is not valid UTF-8';
  return null;
}

export interface IgnoreRules {
  /** The patterns as written (comments and blank lines left out). */
  patterns: string[];
  /** Whether a path of the code tree ('/'-separated, relative to the repository root) is left out. */
  ignores(path: string): boolean;
}

/**
 * A .dockerignore's rules, with Docker's own semantics (@balena/dockerignore): `dir` excludes the
 * folder and all under it, a later `!dir/keep.txt` brings that file back, `*.log` matches at the
 * root only, `**` crosses folders.
 */
export function parseDockerignore(text: string): IgnoreRules {
  const patterns = text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  // The package is CommonJS: its default export is the factory, which also carries itself as .default.
  const matcher = dockerignore.default().add(patterns);
  return { patterns, ignores: (path) => matcher.ignores(path) };
}

/** The folders above a path, outermost first: 'a/b/c' -> ['a', 'a/b']. */
export function parentsOf(path: string): string[] {
  const parts = path.split('/');
  return parts.slice(0, -1).map((_, i) => parts.slice(0, i + 1).join('/'));
}
