// Reads the code's git state through the process choke point. The quick reads have a timeout; the
// patch is the record of the code, not a probe, so it has none: it reports progress instead and
// stops only when asked (Ctrl-C).
import { parsePorcelainZ, stripUrlCredentials } from '../core/git.js';
import type { ProbeRecord } from '../core/model.js';
import { fileSize, findLargeFiles, sha256File, type LargeFile } from './fs.js';
import { runProcess } from './process.js';

export interface GitState {
  probe: ProbeRecord;
  git: {
    /** The repository's top level: the patch has paths from there. */
    root: string;
    commit: string;
    branch: string | null;
    remote_url: string | null;
    dirty: boolean;
    untracked: string[];
  } | null;
  /** The patch written to patchPath, checksummed; null when the tree is clean or it could not be made. */
  patch: { sha256: string; size: number } | null;
  /** Why the patch could not be made; null when it was, or was not needed. */
  patchError: string | null;
  /** Tracked files at or above largeFileBytes: usually weights or data that belong in --data. */
  largeFiles: LargeFile[];
}

export interface GitReadOptions {
  /** Bound on each quick read (rev-parse, status, remote, ls-files). */
  timeoutMs: number;
  /** Where `git diff HEAD --binary` is streamed. */
  patchPath: string;
  signal?: AbortSignal;
  /** Called every progressIntervalMs while the patch is being written, with its size so far. */
  onPatchProgress?: (bytes: number, elapsedMs: number) => void;
  progressIntervalMs?: number;
  largeFileBytes?: number;
}

const DEFAULT_LARGE_FILE_BYTES = 10 * 1024 * 1024;

/**
 * `git diff HEAD --binary` (staged and unstaged changes to tracked files) into patchPath, spelled
 * out in git's defaults whatever the user's config says (prefixes, relative paths, textconv), so
 * `git apply` takes it. No timeout: a slow disk must not cost the record of the code.
 */
async function writePatch(dir: string, options: GitReadOptions): Promise<{ sha256: string; size: number } | { error: string }> {
  const started = performance.now();
  const timer = options.onPatchProgress
    ? setInterval(() => {
        void fileSize(options.patchPath).then((bytes) => options.onPatchProgress?.(bytes ?? 0, Math.round(performance.now() - started)));
      }, options.progressIntervalMs ?? 2000)
    : null;
  try {
    const diff = await runProcess(
      'git',
      ['-C', dir, 'diff', 'HEAD', '--binary', '--no-color', '--no-ext-diff', '--no-textconv', '--no-relative', '--src-prefix=a/', '--dst-prefix=b/'],
      { stdoutFile: options.patchPath, signal: options.signal },
    );
    if (diff.outcome !== 'ok') return { error: diff.reason ?? 'git diff failed' };
  } finally {
    if (timer !== null) clearInterval(timer);
  }
  return sha256File(options.patchPath).catch((error: unknown) => ({ error: `the patch cannot be read back: ${error instanceof Error ? error.message : String(error)}` }));
}

/** Reads commit, branch, remote and status, writes the patch when the tree is dirty, and lists large tracked files. */
export async function readGitState(dir: string, options: GitReadOptions): Promise<GitState> {
  const started = performance.now();
  const { timeoutMs, signal } = options;
  const git = (...args: string[]) => runProcess('git', ['-C', dir, ...args], { timeoutMs, signal });
  const elapsed = () => Math.round(performance.now() - started);
  const top = await git('rev-parse', '--show-toplevel');
  const none = (probe: ProbeRecord): GitState => ({ probe, git: null, patch: null, patchError: null, largeFiles: [] });
  if (top.outcome === 'absent') return none({ status: 'absent', duration_ms: elapsed(), reason: 'git not found' });
  if (top.outcome === 'timeout') return none({ status: 'timeout', duration_ms: elapsed(), reason: top.reason ?? 'git timed out' });
  if (top.outcome !== 'ok') return none({ status: 'absent', duration_ms: elapsed(), reason: `${dir} is not in a git repository` });
  const root = top.stdout.trim();

  const [head, branch, remotes, status, tracked] = await Promise.all([
    git('rev-parse', '--verify', 'HEAD'),
    git('symbolic-ref', '--short', '-q', 'HEAD'),
    git('remote'),
    git('status', '--porcelain=v1', '-z', '--untracked-files=all'),
    runProcess('git', ['-C', root, 'ls-files', '-z'], { timeoutMs, signal }),
  ]);
  const failed = [head, status].find((r) => r.outcome !== 'ok');
  if (failed) {
    const reason = head.outcome === 'failed' ? 'the repository has no commit yet' : failed.reason ?? 'git failed';
    return none({ status: failed.outcome === 'timeout' ? 'timeout' : 'error', duration_ms: elapsed(), reason });
  }
  const remoteNames = remotes.stdout.split('\n').map((s) => s.trim()).filter(Boolean);
  const remoteName = remoteNames.includes('origin') ? 'origin' : remoteNames[0];
  const [remote, largeFiles] = await Promise.all([
    remoteName ? git('remote', 'get-url', remoteName) : null,
    // Only a hint for the user: a listing that failed or timed out gives no warning, not an error.
    tracked.outcome === 'ok' ? findLargeFiles(root, tracked.stdout.split('\0').filter(Boolean), options.largeFileBytes ?? DEFAULT_LARGE_FILE_BYTES) : [],
  ]);
  const { dirty, untracked } = parsePorcelainZ(status.stdout);
  const probe: ProbeRecord = { status: 'ok', duration_ms: elapsed() };
  const patch = dirty ? await writePatch(dir, options) : null;
  return {
    probe,
    git: {
      root,
      commit: head.stdout.trim(),
      branch: branch.outcome === 'ok' ? branch.stdout.trim() || null : null,
      remote_url: remote?.outcome === 'ok' ? stripUrlCredentials(remote.stdout.trim()) : null,
      dirty,
      untracked,
    },
    patch: patch !== null && 'sha256' in patch ? patch : null,
    patchError: patch !== null && 'error' in patch ? patch.error : null,
    largeFiles,
  };
}
