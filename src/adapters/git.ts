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
    /** `git diff HEAD --binary`: staged and unstaged changes to tracked files. */
    patch: string;
  } | null;
}

export async function readGitState(dir: string, timeoutMs: number): Promise<GitState> {
  const started = performance.now();
  const git = (...args: string[]) => runProcess('git', ['-C', dir, ...args], { timeoutMs });
  const elapsed = () => Math.round(performance.now() - started);
  const top = await git('rev-parse', '--show-toplevel');
  if (top.outcome === 'absent') return { probe: { status: 'absent', duration_ms: elapsed(), reason: 'git not found' }, git: null };
  if (top.outcome === 'timeout') return { probe: { status: 'timeout', duration_ms: elapsed(), reason: top.reason ?? 'git timed out' }, git: null };
  if (top.outcome !== 'ok') return { probe: { status: 'absent', duration_ms: elapsed(), reason: `${dir} is not in a git repository` }, git: null };

  const [head, branch, remotes, status, diff] = await Promise.all([
    git('rev-parse', '--verify', 'HEAD'),
    git('symbolic-ref', '--short', '-q', 'HEAD'),
    git('remote'),
    git('status', '--porcelain=v1', '-z', '--untracked-files=all'),
    git('diff', 'HEAD', '--binary', '--no-color', '--no-ext-diff'),
  ]);
  const failed = [head, status, diff].find((r) => r.outcome !== 'ok');
  if (failed) {
    const reason = head.outcome === 'failed' ? 'the repository has no commit yet' : failed.reason ?? 'git failed';
    return { probe: { status: failed.outcome === 'timeout' ? 'timeout' : 'error', duration_ms: elapsed(), reason }, git: null };
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
      patch: diff.stdout,
    },
  };
}
