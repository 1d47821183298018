// Reads the code's git state through the process choke point; every call has a timeout.
import { parsePorcelainZ, stripUrlCredentials } from '../core/git.js';
import type { ProbeRecord } from '../core/model.js';
import { runProcess } from './process.js';

export interface GitState {
  probe: ProbeRecord;
  git: {
    commit: string;
    branch: string | null;
    remote_url: string | null;
    dirty: boolean;
    untracked: string[];
  } | null;
  /** Why the patch (written to patchPath) could not be made; null when it was. */
  patchError: string | null;
}

/**
 * Reads commit, branch, remote and status, and streams `git diff HEAD --binary` (staged and
 * unstaged changes to tracked files) into patchPath. The diff is spelled out in git's defaults
 * whatever the user's config says (prefixes, relative paths, textconv), so `git apply` takes it.
 */
export async function readGitState(dir: string, timeoutMs: number, patchPath: string): Promise<GitState> {
  const started = performance.now();
  const git = (...args: string[]) => runProcess('git', ['-C', dir, ...args], { timeoutMs });
  const elapsed = () => Math.round(performance.now() - started);
  const top = await git('rev-parse', '--show-toplevel');
  const none = (probe: ProbeRecord): GitState => ({ probe, git: null, patchError: null });
  if (top.outcome === 'absent') return none({ status: 'absent', duration_ms: elapsed(), reason: 'git not found' });
  if (top.outcome === 'timeout') return none({ status: 'timeout', duration_ms: elapsed(), reason: top.reason ?? 'git timed out' });
  if (top.outcome !== 'ok') return none({ status: 'absent', duration_ms: elapsed(), reason: `${dir} is not in a git repository` });

  const [head, branch, remotes, status, diff] = await Promise.all([
    git('rev-parse', '--verify', 'HEAD'),
    git('symbolic-ref', '--short', '-q', 'HEAD'),
    git('remote'),
    git('status', '--porcelain=v1', '-z', '--untracked-files=all'),
    runProcess('git', ['-C', dir, 'diff', 'HEAD', '--binary', '--no-color', '--no-ext-diff', '--no-textconv', '--no-relative', '--src-prefix=a/', '--dst-prefix=b/'], {
      timeoutMs,
      stdoutFile: patchPath,
    }),
  ]);
  const failed = [head, status].find((r) => r.outcome !== 'ok');
  if (failed) {
    const reason = head.outcome === 'failed' ? 'the repository has no commit yet' : failed.reason ?? 'git failed';
    return none({ status: failed.outcome === 'timeout' ? 'timeout' : 'error', duration_ms: elapsed(), reason });
  }
  const remoteNames = remotes.stdout.split('\n').map((s) => s.trim()).filter(Boolean);
  const remoteName = remoteNames.includes('origin') ? 'origin' : remoteNames[0];
  const remote = remoteName ? await git('remote', 'get-url', remoteName) : null;
  const { dirty, untracked } = parsePorcelainZ(status.stdout);
  return {
    probe: { status: 'ok', duration_ms: elapsed() },
    git: {
      commit: head.stdout.trim(),
      branch: branch.outcome === 'ok' ? branch.stdout.trim() || null : null,
      remote_url: remote?.outcome === 'ok' ? stripUrlCredentials(remote.stdout.trim()) : null,
      dirty,
      untracked,
    },
    // Commit, branch and remote stand even when the diff cannot be made.
    patchError: diff.outcome === 'ok' ? null : diff.reason ?? 'git diff failed',
  };
}
