// Reads the code's git state through the process choke point. The quick reads have a timeout; the
// patches are the record of the code, not probes, so they have none: they report progress instead
// and stop only when asked (Ctrl-C).
import { join } from 'node:path';
import { parseGitlinks, parsePorcelainZ, parseSubmoduleStatus, stripUrlCredentials } from '../core/git.js';
import type { ProbeRecord } from '../core/model.js';
import { fileSize, findLargeFiles, sha256File, type LargeFile } from './fs.js';
import { runProcess } from './process.js';

export interface PatchResult {
  /** The patch written, checksummed; null when the tree is clean or it could not be made. */
  patch: { sha256: string; size: number } | null;
  /** Why the patch could not be made; null when it was, or was not needed. */
  error: string | null;
}

export interface SubmoduleState extends PatchResult {
  path: string;
  commit: string | null;
  url: string | null;
  initialized: boolean;
  dirty: boolean;
  /** Files untracked in it: like the superproject's, in no rebuild. */
  untracked: string[];
  /** Where its patch was written (when dirty). */
  patchPath: string | null;
  /** A repository inside the repository that .gitmodules does not name (added with `git add`). */
  embedded: boolean;
}

export interface GitState extends PatchResult {
  probe: ProbeRecord;
  git: {
    /** The repository's top level: the patch has paths from there. */
    root: string;
    /** null: no commit yet (an unborn HEAD). */
    commit: string | null;
    branch: string | null;
    remote_url: string | null;
    dirty: boolean;
    staged: string[];
    untracked: string[];
  } | null;
  /** Every submodule (recursively), with its own patch when it has uncommitted changes. */
  submodules: SubmoduleState[];
  /** Why the submodules could not all be listed (null when they were): the code record may lack some. */
  submoduleError: string | null;
  /** Tracked files at or above largeFileBytes: usually weights or data that belong in --data. */
  largeFiles: LargeFile[];
}

export interface GitReadOptions {
  /** Bound on each quick read (rev-parse, status, remote, ls-files). */
  timeoutMs: number;
  /** Where `git diff HEAD --binary` is streamed. */
  patchPath: string;
  /** Where the patch of the i-th submodule goes. */
  submodulePatchPath: (index: number) => string;
  signal?: AbortSignal;
  /** Called every progressIntervalMs while a patch is being written, with its size so far. */
  onPatchProgress?: (bytes: number, elapsedMs: number) => void;
  progressIntervalMs?: number;
  largeFileBytes?: number;
}

const DEFAULT_LARGE_FILE_BYTES = 10 * 1024 * 1024;

/**
 * `git diff HEAD --binary` (staged and unstaged changes to tracked files) into patchPath, spelled
 * out in git's defaults whatever the user's config says (prefixes, relative paths, textconv), so
 * `git apply` takes it. Submodule pointers are left out: each submodule is recorded on its own.
 * No timeout: a slow disk must not cost the record of the code.
 */
async function writePatch(dir: string, patchPath: string, options: GitReadOptions): Promise<PatchResult> {
  const started = performance.now();
  const timer = options.onPatchProgress
    ? setInterval(() => {
        void fileSize(patchPath).then((bytes) => options.onPatchProgress?.(bytes ?? 0, Math.round(performance.now() - started)));
      }, options.progressIntervalMs ?? 2000)
    : null;
  try {
    const diff = await runProcess(
      'git',
      ['-C', dir, 'diff', 'HEAD', '--binary', '--no-color', '--no-ext-diff', '--no-textconv', '--no-relative', '--ignore-submodules=all', '--src-prefix=a/', '--dst-prefix=b/'],
      { stdoutFile: patchPath, signal: options.signal },
    );
    if (diff.outcome !== 'ok') return { patch: null, error: diff.reason ?? 'git diff failed' };
  } finally {
    if (timer !== null) clearInterval(timer);
  }
  return sha256File(patchPath).then(
    (patch) => ({ patch, error: null }),
    (error: unknown) => ({ patch: null, error: `the patch cannot be read back: ${error instanceof Error ? error.message : String(error)}` }),
  );
}

/** One checked-out submodule's state: commit, remote, status, untracked files and its patch when dirty. */
async function readSubmodule(root: string, path: string, commit: string | null, index: number, embedded: boolean, options: GitReadOptions): Promise<SubmoduleState> {
  const { timeoutMs, signal } = options;
  const git = (...args: string[]) => runProcess('git', ['-C', join(root, path), ...args], { timeoutMs, signal });
  const [status, remote, head] = await Promise.all([
    git('status', '--porcelain=v1', '-z', '--untracked-files=all', '--ignore-submodules=all'),
    git('remote', 'get-url', 'origin'),
    commit === null ? git('rev-parse', '--verify', '-q', 'HEAD') : null,
  ]);
  const checkedOut = commit ?? (head?.outcome === 'ok' ? head.stdout.trim() : null);
  const parsed = status.outcome === 'ok' ? parsePorcelainZ(status.stdout) : { dirty: false, untracked: [] };
  const patchPath = parsed.dirty ? options.submodulePatchPath(index) : null;
  const written = patchPath === null ? { patch: null, error: null } : await writePatch(join(root, path), patchPath, options);
  return {
    path,
    commit: checkedOut,
    url: remote.outcome === 'ok' ? stripUrlCredentials(remote.stdout.trim()) : null,
    initialized: true,
    dirty: parsed.dirty,
    untracked: parsed.untracked,
    patchPath,
    embedded,
    ...(status.outcome === 'ok' ? written : { patch: null, error: status.reason ?? 'git status failed' }),
  };
}

/**
 * Every submodule, recursively, from `git submodule status`; and every gitlink the index holds
 * that it did not list (an embedded repository without a .gitmodules entry makes `submodule
 * status` fail outright), read directly, so none is left an empty folder without a word.
 */
async function readSubmodules(root: string, options: GitReadOptions): Promise<{ states: SubmoduleState[]; error: string | null }> {
  const { timeoutMs, signal } = options;
  const [listed, links] = await Promise.all([
    runProcess('git', ['-C', root, 'submodule', 'status', '--recursive'], { timeoutMs, signal }),
    runProcess('git', ['-C', root, 'ls-files', '--stage', '-z'], { timeoutMs, signal, maxBuffer: 256 * 1024 * 1024 }),
  ]);
  const states: SubmoduleState[] = [];
  const known = listed.outcome === 'ok' ? parseSubmoduleStatus(listed.stdout) : [];
  for (const sub of known) {
    if (!sub.initialized) {
      states.push({ path: sub.path, commit: sub.commit, url: null, initialized: false, dirty: false, untracked: [], patch: null, error: null, patchPath: null, embedded: false });
      continue;
    }
    states.push(await readSubmodule(root, sub.path, sub.commit, states.length, false, options));
  }
  const listedPaths = new Set(known.map((s) => s.path));
  for (const link of links.outcome === 'ok' ? parseGitlinks(links.stdout) : []) {
    if (listedPaths.has(link.path)) continue;
    const present = await runProcess('git', ['-C', join(root, link.path), 'rev-parse', '--show-toplevel'], { timeoutMs, signal });
    const isOwnRepo = present.outcome === 'ok' && present.stdout.trim() === join(root, link.path);
    if (!isOwnRepo) {
      states.push({ path: link.path, commit: link.commit, url: null, initialized: false, dirty: false, untracked: [], patch: null, error: null, patchPath: null, embedded: true });
      continue;
    }
    states.push(await readSubmodule(root, link.path, null, states.length, true, options));
  }
  const error = listed.outcome === 'ok' ? null : `git submodule status failed (${listed.reason ?? 'unknown error'})`;
  const linkError = links.outcome === 'ok' ? null : `git ls-files --stage failed (${links.reason ?? 'unknown error'})`;
  return { states, error: [error, linkError].filter((e) => e !== null).join('; ') || null };
}

/** Reads commit, branch, remote and status, writes the patches of a dirty tree, and lists large tracked files. */
export async function readGitState(dir: string, options: GitReadOptions): Promise<GitState> {
  const started = performance.now();
  const { timeoutMs, signal } = options;
  const git = (...args: string[]) => runProcess('git', ['-C', dir, ...args], { timeoutMs, signal });
  const elapsed = () => Math.round(performance.now() - started);
  const top = await git('rev-parse', '--show-toplevel');
  const none = (probe: ProbeRecord): GitState => ({ probe, git: null, patch: null, error: null, submodules: [], submoduleError: null, largeFiles: [] });
  if (top.outcome === 'absent') return none({ status: 'absent', duration_ms: elapsed(), reason: 'git not found' });
  if (top.outcome === 'timeout') return none({ status: 'timeout', duration_ms: elapsed(), reason: top.reason ?? 'git timed out' });
  if (top.outcome !== 'ok') return none({ status: 'absent', duration_ms: elapsed(), reason: `${dir} is not in a git repository` });
  const root = top.stdout.trim();

  const [head, branch, remotes, status, tracked] = await Promise.all([
    git('rev-parse', '--verify', '-q', 'HEAD'),
    git('symbolic-ref', '--short', '-q', 'HEAD'),
    git('remote'),
    git('status', '--porcelain=v1', '-z', '--untracked-files=all', '--ignore-submodules=all'),
    runProcess('git', ['-C', root, 'ls-files', '-z'], { timeoutMs, signal }),
  ]);
  if (status.outcome !== 'ok' || (head.outcome !== 'ok' && head.outcome !== 'failed')) {
    const failed = status.outcome !== 'ok' ? status : head;
    return none({ status: failed.outcome === 'timeout' ? 'timeout' : 'error', duration_ms: elapsed(), reason: failed.reason ?? 'git failed' });
  }
  // `rev-parse -q --verify HEAD` fails quietly on an unborn HEAD: a repository without a commit yet.
  const commit = head.outcome === 'ok' ? head.stdout.trim() : null;
  const remoteNames = remotes.stdout.split('\n').map((s) => s.trim()).filter(Boolean);
  const remoteName = remoteNames.includes('origin') ? 'origin' : remoteNames[0];
  const [remote, largeFiles] = await Promise.all([
    remoteName ? git('remote', 'get-url', remoteName) : null,
    // Only a hint for the user: a listing that failed or timed out gives no warning, not an error.
    tracked.outcome === 'ok' ? findLargeFiles(root, tracked.stdout.split('\0').filter(Boolean), options.largeFileBytes ?? DEFAULT_LARGE_FILE_BYTES) : [],
  ]);
  const { dirty, staged, untracked } = parsePorcelainZ(status.stdout);
  const probe: ProbeRecord = { status: 'ok', duration_ms: elapsed() };
  const written = dirty && commit !== null ? await writePatch(dir, options.patchPath, options) : { patch: null, error: null };
  const submodules = commit !== null ? await readSubmodules(root, options) : { states: [], error: null };
  return {
    probe,
    git: {
      root,
      commit,
      branch: branch.outcome === 'ok' ? branch.stdout.trim() || null : null,
      remote_url: remote?.outcome === 'ok' ? stripUrlCredentials(remote.stdout.trim()) : null,
      dirty,
      staged,
      untracked,
    },
    ...written,
    submodules: submodules.states,
    submoduleError: submodules.error,
    largeFiles,
  };
}

/** The top level of the git repository holding `dir`, or null when it is in none. */
export async function gitTopLevel(dir: string, timeoutMs = 10_000, signal?: AbortSignal): Promise<string | null> {
  const top = await runProcess('git', ['-C', dir, 'rev-parse', '--show-toplevel'], { timeoutMs, signal });
  return top.outcome === 'ok' ? top.stdout.trim() || null : null;
}

/** Whether the repository has the commit (a clone that never fetched it does not). */
export async function hasCommit(repo: string, commit: string, timeoutMs = 10_000, signal?: AbortSignal): Promise<boolean> {
  const has = await runProcess('git', ['-C', repo, 'cat-file', '-e', `${commit}^{commit}`], { timeoutMs, signal });
  return has.outcome === 'ok';
}
