// Reads the code's git state through the process choke point. The quick reads have a timeout; the
// patches are the record of the code, not probes, so they have none: they report progress instead
// and stop only when asked (Ctrl-C).
import { join, resolve } from 'node:path';
import { parseGitlinks, parsePorcelainZ, parseSubmoduleStatus, stripUrlCredentials } from '../core/git.js';
import type { ProbeRecord } from '../core/model.js';
import { fileSize, findLargeFiles, makeDir, sha256File, writeNewFile, type LargeFile } from './fs.js';
import { runProcess, spawnStreaming, type StreamingProcess } from './process.js';

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

/** Git's own variables that would point a child git at another repository, index or object folder. */
const GIT_LOCATION_ENV = ['GIT_DIR', 'GIT_WORK_TREE', 'GIT_INDEX_FILE', 'GIT_OBJECT_DIRECTORY', 'GIT_ALTERNATE_OBJECT_DIRECTORIES', 'GIT_COMMON_DIR', 'GIT_NAMESPACE', 'GIT_PREFIX'];

/** The environment for git reading `dir`: ours, without anything (a hook, a wrapper) that redirects it. */
function gitEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of GIT_LOCATION_ENV) delete env[name];
  return { ...env, ...extra };
}

/** A tree in a repository, and the environment git needs to read it (its objects may be in a scratch folder). */
export interface GitTree {
  dir: string;
  tree: string;
  env: NodeJS.ProcessEnv;
}

export type TreeResult = { ok: true; tree: GitTree } | { ok: false; step: string; reason: string };

const OBJECT_ID = /^[0-9a-f]{40}([0-9a-f]{24})?$/;

/**
 * The tree of `commit` in the repository at `dir`, with `patch` (a `git diff --binary`) applied,
 * without a checkout: `git read-tree` into a temporary index, `git apply --cached`, `git write-tree`.
 * The new blobs and trees go into an object folder under `scratch` that borrows the repository's
 * objects (an alternate), so the repository is left exactly as it was, even when it is read-only.
 * The caller removes `scratch` once it no longer reads the tree.
 */
export async function patchedTree(dir: string, commit: string, patch: string | null, scratch: string, options: { timeoutMs: number; signal?: AbortSignal }): Promise<TreeResult> {
  const { timeoutMs, signal } = options;
  const plain = gitEnv();
  if (patch === null) {
    const tree = await runProcess('git', ['-C', dir, 'rev-parse', '--verify', '-q', `${commit}^{tree}`], { timeoutMs, signal, env: plain });
    const id = tree.stdout.trim();
    if (tree.outcome !== 'ok' || !OBJECT_ID.test(id)) return { ok: false, step: 'reading the tree of the commit', reason: tree.reason ?? 'not a tree' };
    return { ok: true, tree: { dir, tree: id, env: plain } };
  }
  const objectsPath = await runProcess('git', ['-C', dir, 'rev-parse', '--git-path', 'objects'], { timeoutMs, signal, env: plain });
  if (objectsPath.outcome !== 'ok') return { ok: false, step: 'finding the object folder', reason: objectsPath.reason ?? 'git rev-parse failed' };
  const objects = resolve(dir, objectsPath.stdout.trim());
  const own = join(scratch, 'objects');
  await makeDir(join(own, 'info'));
  // info/alternates, not GIT_ALTERNATE_OBJECT_DIRECTORIES: one path a line, no quoting of ':' needed,
  // and the repository's own alternates are followed from there.
  await writeNewFile(join(own, 'info', 'alternates'), `${objects}\n`);
  const env = gitEnv({ GIT_INDEX_FILE: join(scratch, 'index'), GIT_OBJECT_DIRECTORY: own });
  const git = (...args: string[]) => runProcess('git', ['-C', dir, ...args], { timeoutMs, signal, env });
  const read = await git('read-tree', commit);
  if (read.outcome !== 'ok') return { ok: false, step: 'reading the commit into a temporary index', reason: read.reason ?? 'git read-tree failed' };
  const applied = await git('apply', '--cached', '--whitespace=nowarn', patch);
  if (applied.outcome !== 'ok') return { ok: false, step: 'applying the captured patch', reason: applied.reason ?? 'git apply failed' };
  const written = await git('write-tree');
  const id = written.stdout.trim();
  if (written.outcome !== 'ok' || !OBJECT_ID.test(id)) return { ok: false, step: 'writing the patched tree', reason: written.reason ?? 'git write-tree failed' };
  return { ok: true, tree: { dir, tree: id, env } };
}

/** One entry of a tree by its path (taken literally, never as a pattern), or null when there is none. */
export async function treeEntry(tree: GitTree, path: string, options: { timeoutMs: number; signal?: AbortSignal }): Promise<{ mode: string; type: string; id: string } | null> {
  const listed = await runProcess('git', ['--literal-pathspecs', '-C', tree.dir, 'ls-tree', '-z', tree.tree, '--', path], { ...options, env: tree.env });
  if (listed.outcome !== 'ok') return null;
  for (const line of listed.stdout.split('\0')) {
    const match = /^(\d{6}) (\w+) ([0-9a-f]+)\t(.*)$/s.exec(line);
    if (match && match[4] === path) return { mode: match[1] as string, type: match[2] as string, id: match[3] as string };
  }
  return null;
}

/** A blob's bytes as text, or null when it is larger than maxBytes or cannot be read. */
export async function readBlob(tree: GitTree, id: string, maxBytes: number, options: { timeoutMs: number; signal?: AbortSignal }): Promise<string | null> {
  const size = await runProcess('git', ['-C', tree.dir, 'cat-file', '-s', id], { ...options, env: tree.env });
  if (size.outcome !== 'ok' || Number(size.stdout.trim()) > maxBytes) return null;
  const blob = await runProcess('git', ['-C', tree.dir, 'cat-file', 'blob', id], { ...options, env: tree.env });
  return blob.outcome === 'ok' ? blob.stdout : null;
}

/**
 * `git archive --format=tar` of the tree, streamed: read its stdout as it comes. No timeout: the
 * reader sets the pace (a build engine taking the context), and the signal stops it.
 */
export function archiveTree(tree: GitTree, signal?: AbortSignal): StreamingProcess {
  return spawnStreaming('git', ['-C', tree.dir, 'archive', '--format=tar', tree.tree], { env: tree.env, signal });
}
