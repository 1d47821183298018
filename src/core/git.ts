// Pure helpers for what git tells us about the code.

/**
 * Removes credentials from a remote URL: https://user:token@host/x -> https://host/x. scp-style
 * remotes (git@host:org/repo) carry no secret and stay as they are.
 */
export function stripUrlCredentials(url: string): string {
  const trimmed = url.trim();
  const match = /^([a-zA-Z][a-zA-Z0-9+.-]*:\/\/)([^/]*)(.*)$/.exec(trimmed);
  if (!match) return trimmed;
  const [, scheme = '', authority = '', rest = ''] = match;
  // The host follows the last '@': a password may itself contain a raw '@'.
  const at = authority.lastIndexOf('@');
  if (at < 0) return trimmed;
  const userinfo = authority.slice(0, at);
  const host = authority.slice(at + 1);
  const user = userinfo.split(':')[0] ?? '';
  // ssh:// keeps the login name (it is who connects); http(s) user parts are often tokens, so they go.
  const keepUser = /^ssh:\/\//i.test(scheme) && user !== '';
  return `${scheme}${keepUser ? `${user}@` : ''}${host}${rest}`;
}

export interface PorcelainStatus {
  dirty: boolean;
  /** Paths with changes in the index (staged). */
  staged: string[];
  untracked: string[];
}

/** Reads `git status --porcelain=v1 -z --untracked-files=all`. */
export function parsePorcelainZ(output: string): PorcelainStatus {
  const records = output.split('\0');
  const untracked: string[] = [];
  const staged: string[] = [];
  let dirty = false;
  for (let i = 0; i < records.length; i++) {
    const record = records[i] ?? '';
    if (record.length < 4) continue;
    const code = record.slice(0, 2);
    const path = record.slice(3);
    if (code === '??') {
      untracked.push(path);
    } else if (code !== '!!') {
      dirty = true;
      // X, the index column: M, T, A, D, R or C is a staged change; U and the AA/DD pairs are conflicts.
      if ('MTADRC'.includes(code[0] ?? ' ') && !code.includes('U') && code !== 'AA' && code !== 'DD') staged.push(path);
      // Renames and copies are followed by their source path as a record of its own.
      if (code.includes('R') || code.includes('C')) i++;
    }
  }
  return { dirty, staged: staged.sort(), untracked: untracked.sort() };
}

export interface SubmoduleStatus {
  path: string;
  commit: string;
  /** '-' in `git submodule status`: not checked out, so its files were not there either. */
  initialized: boolean;
}

/**
 * Reads `git submodule status --recursive`: "<flag><sha> <path>[ (<describe>)]", the flag one of
 * ' ', '+' (checked out at another commit than the index records), '-' (not initialized) or 'U'
 * (merge conflict). For an initialized submodule the sha is the commit checked out, which is what
 * the training ran; paths are from the top level.
 */
export function parseSubmoduleStatus(output: string): SubmoduleStatus[] {
  const out: SubmoduleStatus[] = [];
  for (const line of output.split('\n')) {
    const match = /^([ +\-U])([0-9a-f]{40}(?:[0-9a-f]{24})?) (.+?)(?: \([^()]*\))?$/.exec(line);
    if (!match) continue;
    out.push({ path: match[3] as string, commit: match[2] as string, initialized: match[1] !== '-' });
  }
  return out;
}

/**
 * The gitlinks (mode 160000 entries) of `git ls-files --stage -z`: every submodule path the index
 * has, whether or not .gitmodules names it (an embedded repository added with `git add`).
 */
export function parseGitlinks(output: string): Array<{ path: string; commit: string }> {
  const out: Array<{ path: string; commit: string }> = [];
  for (const record of output.split('\0')) {
    const match = /^160000 ([0-9a-f]{40}(?:[0-9a-f]{24})?) \d\t(.+)$/s.exec(record);
    if (match) out.push({ commit: match[1] as string, path: match[2] as string });
  }
  return out;
}

/** What the snapshot's code record can give back: the tree the training ran on, or less. */
export type CapturedTree =
  | { kind: 'clean' }
  | { kind: 'patched'; patchFile: string }
  /** Uncommitted changes the training ran with were not saved: the commit alone is other code. */
  | { kind: 'commit-only'; reason: string };

export function capturedTree(git: { dirty: boolean; patch_file: string | null; patch_error: string | null }): CapturedTree {
  if (git.patch_file !== null) return { kind: 'patched', patchFile: git.patch_file };
  // A tree whose state could not be read (git status failed) is not known to be clean.
  if (!git.dirty && git.patch_error === null) return { kind: 'clean' };
  return { kind: 'commit-only', reason: git.patch_error ?? 'the snapshot records uncommitted changes but no patch' };
}

/**
 * Every file untracked at capture, the submodules' included (prefixed with the submodule's path):
 * in no commit and no patch, so in no rebuild. Non-string entries (a hand-edited file) are skipped.
 */
export function untrackedAtCapture(git: { untracked: unknown; submodules?: unknown } | null | undefined): string[] {
  if (!git) return [];
  const own = Array.isArray(git.untracked) ? git.untracked.filter((p): p is string => typeof p === 'string') : [];
  const subs = Array.isArray(git.submodules) ? (git.submodules as Array<{ path?: unknown; untracked?: unknown }>) : [];
  const nested = subs.flatMap((sub) => (typeof sub?.path === 'string' && Array.isArray(sub.untracked) ? sub.untracked.filter((p): p is string => typeof p === 'string').map((p) => `${sub.path}/${p}`) : []));
  return [...own, ...nested];
}
