// The code layer every build shares (dockerfile now, each replay engine next): where the captured
// commit is, whether the captured patches are the ones recorded, and the tree itself (the commit
// with its patch, each submodule at its commit with its own patch) as a stream of entries, made
// without a checkout: git applies the patch to a temporary index and archives the tree it writes.
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { compareKeys, linkTargetProblem, normaliseMode, orderKey, parentsOf, parseDockerignore, treePathProblem, type EntryKind, type IgnoreRules } from '../core/code-tree.js';
import type { CodeSubmodule } from '../core/dockerfile/plan.js';
import { assertCommitId, assertRelativePosixPath, showValue, unsafeValue } from '../core/dockerfile/validate.js';
import { capturedTree } from '../core/git.js';
import type { Snapshot } from '../core/model.js';
import { UserInputError } from '../errors.js';
import { isInside, makeTempDir, removePath, sha256File, statKind } from '../adapters/fs.js';
import { archiveTree, patchedTree, readBlob, treeEntry, type GitTree } from '../adapters/git.js';
import { runProcess } from '../adapters/process.js';
import { readTar } from '../adapters/tar.js';

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f\u2028\u2029]/;

/** A submodule the code layer rebuilds: its checkout in the user's repository, its commit, its patch. */
export interface SubmoduleSource {
  path: string;
  dir: string;
  commit: string;
  patch: string | null;
}

/** `root`: the repository's top level (the patch has full-tree paths); `subdir`: the code folder in it. */
export interface LocatedCode {
  repo: string;
  root: string;
  subdir: string;
  commit: string;
  patch: string | null;
  commitOnly: boolean;
  submodules: SubmoduleSource[];
  warnings: string[];
}

/** The code, or why it is left out (the build goes on without it). */
export type CodeSource = LocatedCode | { reason: string };

export interface LocateCodeInput {
  snapshot: Snapshot;
  /** Absolute: captured patches are found beside it. */
  snapshotPath: string;
  /** The folder that holds the code, as the caller found it (--code, a clone, the recorded path); null: none. */
  repoDir: string | null;
  noCode: boolean;
  /** Build the commit alone when the uncommitted changes were not captured (refused otherwise). */
  commitOnly: boolean;
  timeoutMs: number;
  signal?: AbortSignal;
}

/** What the snapshot says about one tree: the superproject, or a submodule. */
export interface TreeRecord {
  commit: string;
  dirty: boolean;
  patch_file: string | null;
  patch_sha256: string | null;
  patch_size: number | null;
  patch_error: string | null;
}

/**
 * The snapshot's code must be the tree the training ran on: uncommitted changes that were not
 * captured are refused (unless commitOnly), and a patch that is not byte for byte the one
 * captured is refused, naming it. `submodule`: the submodule's path, null for the repository itself.
 */
export async function checkCapturedTree(record: TreeRecord, submodule: string | null, field: string, snapshotPath: string, commitOnly: boolean): Promise<{ patch: string | null; commitOnly: boolean; warnings: string[] }> {
  const tree = capturedTree(record);
  const commit = record.commit.slice(0, 12);
  const where = submodule === null ? '' : ` in submodule ${submodule}`;
  if (tree.kind === 'clean') return { patch: null, commitOnly: false, warnings: [] };
  if (tree.kind === 'commit-only') {
    if (!commitOnly) {
      throw new UserInputError('CODE_NOT_CAPTURED', `${snapshotPath}: the training ran with uncommitted changes${where} that the snapshot does not hold (${tree.reason}), so commit ${commit} alone is other code`, {
        hint: 'Capture again with the changes saved (or committed); --commit-only builds the commit without them, and the output says so.',
      });
    }
    return { patch: null, commitOnly: true, warnings: [`The code${where} is commit ${commit} alone, not the tree the training ran on: its uncommitted changes were not captured (${tree.reason}); built anyway because of --commit-only.`] };
  }
  const snapshotDir = dirname(snapshotPath);
  if (typeof tree.patchFile !== 'string') throw unsafeValue(`${field}.patch_file`, tree.patchFile, 'is not a file name');
  const patch = resolve(snapshotDir, tree.patchFile);
  if (CONTROL.test(tree.patchFile)) throw unsafeValue(`${field}.patch_file`, tree.patchFile, 'contains a control character');
  if (isAbsolute(tree.patchFile) || !isInside(snapshotDir, patch) || patch === snapshotDir) throw unsafeValue(`${field}.patch_file`, tree.patchFile, "points outside the snapshot's folder");
  if ((await statKind(patch)) !== 'file') {
    throw new UserInputError('PATCH_MISSING', `the captured patch${where} (${patch}) is missing, and commit ${commit} alone is not the captured tree`, {
      hint: "Restore the snapshot's bundle folder beside it (it is meant to be committed with the snapshot).",
    });
  }
  if (record.patch_sha256 === null) {
    return { patch, commitOnly: false, warnings: [`The captured patch ${patch} cannot be checked: the snapshot (an older schema) recorded no checksum for it.`] };
  }
  const actual = await sha256File(patch);
  if (actual.sha256 !== record.patch_sha256 || actual.size !== record.patch_size) {
    throw new UserInputError('PATCH_MODIFIED', `the captured patch ${patch} is not the one the snapshot recorded: ${actual.size} bytes with sha256 ${actual.sha256.slice(0, 16)}..., recorded ${record.patch_size ?? '?'} bytes with sha256 ${String(record.patch_sha256).slice(0, 16)}...`, {
      hint: 'It was edited or truncated since capture (a partial copy, line endings rewritten by git): restore it from the repository, or capture again.',
    });
  }
  return { patch, commitOnly: false, warnings: [] };
}

type GitRecord = NonNullable<NonNullable<Snapshot['code']>['git']>;

/**
 * Each submodule the training had checked out, with its commit and patch checked; one that was not
 * initialized at capture had no files then either, and is only named. A submodule whose commit is
 * not here is refused: the layer would otherwise hold an empty folder where the training had code.
 */
export async function locateSubmodules(git: GitRecord, root: string, snapshotPath: string, commitOnly: boolean, timeoutMs: number): Promise<{ submodules: SubmoduleSource[]; commitOnly: boolean; warnings: string[] }> {
  const records: unknown = git.submodules ?? [];
  if (!Array.isArray(records)) throw unsafeValue('code.git.submodules', records, 'is not a list');
  const submodules: SubmoduleSource[] = [];
  const warnings: string[] = [];
  const seen = new Set<string>();
  let onlyCommits = false;
  for (const [i, sub] of (records as GitRecord['submodules']).entries()) {
    const field = `code.git.submodules[${i}]`;
    const path = assertRelativePosixPath(sub?.path, `${field}.path`);
    // Checked like any tree path: a crafted '.git/x' or 'a//b' never names a folder of the context.
    const problem = treePathProblem(path);
    if (problem !== null) throw unsafeValue(`${field}.path`, path, `is not an acceptable submodule path: ${problem}`);
    if (seen.has(path)) throw unsafeValue(`${field}.path`, path, 'names a submodule listed twice');
    seen.add(path);
    if (!sub.initialized) {
      warnings.push(`Submodule ${path} was not initialized at capture: the training ran without its files, and the image has none either.`);
      continue;
    }
    const commit = assertCommitId(sub.commit, `${field}.commit`);
    const tree = await checkCapturedTree({ ...sub, commit }, path, field, snapshotPath, commitOnly);
    onlyCommits ||= tree.commitOnly;
    warnings.push(...tree.warnings);
    const dir = join(root, ...path.split('/'));
    const has = await runProcess('git', ['-C', dir, 'cat-file', '-e', `${commit}^{commit}`], { timeoutMs });
    if (has.outcome !== 'ok') {
      throw new UserInputError('SUBMODULE_NOT_HERE', `submodule ${path}: commit ${commit.slice(0, 12)}, which the training ran, is not in ${dir}`, {
        hint: `Run git submodule update --init --recursive in ${root} (and fetch the submodule if that commit was never pushed), or pass --no-code.`,
      });
    }
    submodules.push({ path, dir, commit, patch: tree.patch });
  }
  return { submodules, commitOnly: onlyCommits, warnings };
}

/**
 * Finds the repository and patches for the code layer, refusing paths from the snapshot that leave
 * its folder. The repository is wherever the caller says (`repoDir`): dockerfile takes --code or
 * the recorded path, replay a clone.
 */
export async function locateCode(input: LocateCodeInput): Promise<CodeSource> {
  const { snapshot, snapshotPath, timeoutMs } = input;
  const git = snapshot.code?.git;
  if (input.noCode) return { reason: '--no-code was given' };
  if (!git) return { reason: 'the snapshot recorded no git commit' };
  if (git.commit === null) return { reason: 'the repository had no commit yet when the snapshot was captured' };
  const commit = assertCommitId(git.commit, 'code.git.commit');
  // Before any repository is looked for: a snapshot that cannot give back its code is refused first.
  const tree = await checkCapturedTree({ ...git, commit }, null, 'code.git', snapshotPath, input.commitOnly);
  const repo = input.repoDir ?? '';
  if (!isAbsolute(repo) || CONTROL.test(repo) || (await statKind(repo)) !== 'directory') {
    return { reason: `the code folder ${showValue(repo)} is not here (pass --code DIR)` };
  }
  const has = await runProcess('git', ['-C', repo, 'cat-file', '-e', `${commit}^{commit}`], { timeoutMs, signal: input.signal });
  if (has.outcome !== 'ok') return { reason: `commit ${commit.slice(0, 12)} is not in ${repo} (fetch it, or pass --code DIR)` };
  // The code folder may be a subfolder of its repository: the layer is the whole tree, as the
  // patch is, and the image starts in that subfolder. A subfolder name that cannot be written
  // safely leaves the image at the root.
  const top = await runProcess('git', ['-C', repo, 'rev-parse', '--show-toplevel'], { timeoutMs, signal: input.signal });
  const root = top.outcome === 'ok' ? top.stdout.trim() : repo;
  const inside = relative(root, repo).split(sep).join('/');
  const subs = await locateSubmodules(git, root, snapshotPath, input.commitOnly, timeoutMs);
  return {
    repo,
    root,
    subdir: /^[A-Za-z0-9._/-]*$/.test(inside) && !inside.startsWith('..') ? inside : '',
    commit,
    patch: tree.patch,
    commitOnly: tree.commitOnly || subs.commitOnly,
    submodules: subs.submodules,
    warnings: [...tree.warnings, ...subs.warnings],
  };
}

/** What a build and its report say about the code: the plan's code option, and the result's. */
export type CodeFacts =
  | { included: true; commit: string; patched: boolean; commitOnly: boolean; subdir: string; submodules: CodeSubmodule[]; dockerignore: string[] | null }
  | { included: false; reason: string };

/** One entry of the code tree; `path` is relative to the repository root. Read a file's body to its end before asking for the next. */
export interface CodeTreeEntry {
  path: string;
  kind: EntryKind;
  /** Normalised (normaliseMode). */
  mode: number;
  size: number;
  linkname: string | null;
  body: AsyncIterable<Buffer> | null;
}

/** The code tree, ready to stream as many times as asked until dispose(). */
export interface CodeTree {
  facts: Extract<CodeFacts, { included: true }>;
  warnings: string[];
  /** Every entry, in orderKey order, .dockerignore applied, submodules in place. */
  entries(signal?: AbortSignal): AsyncGenerator<CodeTreeEntry>;
  /** Removes the temporary index and objects; entries() cannot be read after it. */
  dispose(): Promise<void>;
}

interface TreeNode {
  /** '' for the repository, the submodule's path otherwise. */
  path: string;
  tree: GitTree;
  children: TreeNode[];
}

function codeLayerFailed(what: string, reason: string, cause?: unknown): UserInputError {
  return new UserInputError('CODE_LAYER_FAILED', `${what} failed: ${reason}`, { hint: 'Pass --no-code to leave the code out of the image.', cause });
}

function unsafeTreeEntry(path: string, problem: string): UserInputError {
  return new UserInputError('CODE_TREE_UNSAFE', `the code tree holds ${showValue(path)}, which cannot enter the build context: ${problem}`, {
    hint: 'Rename or remove it in the repository (and recapture), or pass --no-code.',
  });
}

const MAX_DOCKERIGNORE_BYTES = 1024 * 1024;

/**
 * The trees of the located code, written without touching the repository (see patchedTree), each
 * submodule checked to be a submodule of the tree that holds it, and the repository's
 * .dockerignore read from the tree itself (the captured one, not whatever is on disk now).
 */
export async function prepareCodeTree(code: LocatedCode, options: { timeoutMs: number; signal?: AbortSignal }): Promise<CodeTree> {
  const scratch = await makeTempDir('snapshot-code-');
  try {
    const made = async (what: string, dir: string, commit: string, patch: string | null, index: number): Promise<GitTree> => {
      const result = await patchedTree(dir, commit, patch, join(scratch, String(index)), options);
      if (!result.ok) throw codeLayerFailed(`${result.step} (${what})`, result.reason);
      return result.tree;
    };
    const root: TreeNode = { path: '', tree: await made(`commit ${code.commit.slice(0, 12)}`, code.root, code.commit, code.patch, 0), children: [] };
    const ordered = [...code.submodules].sort((a, b) => compareKeys(orderKey(a.path, 'directory'), orderKey(b.path, 'directory')));
    const nodes: TreeNode[] = [];
    for (const [i, sub] of ordered.entries()) {
      const node: TreeNode = { path: sub.path, tree: await made(`submodule ${sub.path}`, sub.dir, sub.commit, sub.patch, i + 1), children: [] };
      // Its parent: the deepest submodule it sits in, else the repository. Sorted order puts parents first.
      const parent = [...nodes].reverse().find((n) => sub.path.startsWith(`${n.path}/`)) ?? root;
      const inParent = parent.path === '' ? sub.path : sub.path.slice(parent.path.length + 1);
      const entry = await treeEntry(parent.tree, inParent, options);
      if (entry === null || entry.mode !== '160000') {
        throw new UserInputError('SUBMODULE_NOT_IN_TREE', `submodule ${sub.path} is not a submodule of ${parent.path === '' ? 'the repository' : `submodule ${parent.path}`} at the captured commit (${entry === null ? 'nothing is there' : `a ${entry.type} is there`})`, {
          hint: 'The snapshot names a submodule its commit does not have: it was edited, or the repository is another one. Recapture, or pass --no-code.',
        });
      }
      parent.children.push(node);
      nodes.push(node);
    }
    const warnings: string[] = [];
    let ignore: IgnoreRules | null = null;
    const file = await treeEntry(root.tree, '.dockerignore', options);
    if (file !== null) {
      const text = file.mode === '100644' || file.mode === '100755' ? await readBlob(root.tree, file.id, MAX_DOCKERIGNORE_BYTES, options) : null;
      if (text === null) warnings.push(`The repository's .dockerignore is not honoured: it is ${file.mode === '120000' ? 'a symlink' : file.mode.startsWith('04') ? 'a folder' : `larger than ${MAX_DOCKERIGNORE_BYTES} bytes or unreadable`}; the code layer holds the whole tree.`);
      else ignore = parseDockerignore(text);
    }
    const facts: CodeTree['facts'] = {
      included: true,
      commit: code.commit,
      patched: code.patch !== null,
      commitOnly: code.commitOnly,
      subdir: code.subdir,
      submodules: code.submodules.map((sub) => ({ path: sub.path, commit: sub.commit, patched: sub.patch !== null })),
      dockerignore: ignore?.patterns ?? null,
    };
    let disposed = false;
    return {
      facts,
      warnings,
      entries: (signal) => {
        if (disposed) throw new Error('code tree read after dispose()');
        return filtered(treeEntries(root, signal ?? options.signal), ignore);
      },
      dispose: async () => {
        disposed = true;
        await removePath(scratch);
      },
    };
  } catch (error) {
    await removePath(scratch);
    throw error;
  }
}

/**
 * The .dockerignore applied: an excluded entry is skipped (its body drained by the reader), and a
 * file brought back with `!` inside an excluded folder gets that folder's entry made for it, so
 * every entry's parents come before it.
 */
async function* filtered(entries: AsyncGenerator<CodeTreeEntry>, ignore: IgnoreRules | null): AsyncGenerator<CodeTreeEntry> {
  if (ignore === null) {
    yield* entries;
    return;
  }
  const made = new Set<string>();
  for await (const entry of entries) {
    if (ignore.ignores(entry.path)) continue;
    for (const parent of parentsOf(entry.path)) {
      if (made.has(parent)) continue;
      made.add(parent);
      yield { path: parent, kind: 'directory', mode: 0o755, size: 0, linkname: null, body: null };
    }
    if (entry.kind === 'directory') made.add(entry.path);
    yield entry;
  }
}

/**
 * One tree's entries from git archive, with each submodule's entries spliced in where they sort:
 * the submodule's own entry in its parent (git lists a gitlink as an empty folder) is replaced by
 * the submodule's tree. Nested submodules work the same way, one level down.
 */
async function* treeEntries(node: TreeNode, signal: AbortSignal | undefined): AsyncGenerator<CodeTreeEntry> {
  const what = node.path === '' ? 'git archive of the code' : `git archive of submodule ${node.path}`;
  const archive = archiveTree(node.tree, signal);
  const pending = [...node.children];
  const gitlinks = new Set(node.children.map((child) => child.path));
  const prefix = node.path === '' ? '' : `${node.path}/`;
  let finished = false;
  async function* splice(child: TreeNode): AsyncGenerator<CodeTreeEntry> {
    yield { path: child.path, kind: 'directory', mode: 0o755, size: 0, linkname: null, body: null };
    yield* treeEntries(child, signal);
  }
  try {
    for await (const entry of readTar(archive.stdout)) {
      const name = entry.name.endsWith('/') ? entry.name.slice(0, -1) : entry.name;
      const path = `${prefix}${name}`;
      const problem = treePathProblem(name);
      if (problem !== null) throw unsafeTreeEntry(path, problem);
      if (entry.kind === 'other') throw unsafeTreeEntry(path, `a ${entry.type} entry, which no git tree holds`);
      const kind = entry.kind;
      if (kind === 'symlink') {
        const linkProblem = linkTargetProblem(entry.linkname ?? '');
        if (linkProblem !== null) throw unsafeTreeEntry(path, `a symlink: ${linkProblem}`);
      }
      const key = orderKey(path, kind);
      while (pending.length > 0 && compareKeys(orderKey((pending[0] as TreeNode).path, 'directory'), key) < 0) yield* splice(pending.shift() as TreeNode);
      if (gitlinks.has(path)) continue;
      yield { path, kind, mode: normaliseMode(kind, entry.mode), size: kind === 'file' ? entry.size : 0, linkname: kind === 'symlink' ? entry.linkname : null, body: kind === 'file' ? entry.body : null };
    }
    while (pending.length > 0) yield* splice(pending.shift() as TreeNode);
    finished = true;
  } catch (error) {
    archive.stop();
    const result = await archive.result;
    if (error instanceof UserInputError) throw error;
    const said = result.stderr.trim().split('\n').pop();
    throw codeLayerFailed(what, `${error instanceof Error ? error.message : String(error)}${said ? ` (git: ${said.slice(0, 300)})` : ''}`, error);
  } finally {
    // A reader that stopped early (the build failed): git must not wait on a pipe nobody reads.
    if (!finished) archive.stop();
  }
  const result = await archive.result;
  if (result.outcome !== 'ok') throw codeLayerFailed(what, result.reason ?? 'unknown error');
}
