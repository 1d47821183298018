// `snapshot dockerfile`: a build context folder (Dockerfile, pinned requirements, the snapshot, the
// probe, and the code at the captured commit) written atomically from a snapshot.
import { copyFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { planDockerfile, type DockerfilePlan } from '../core/dockerfile/plan.js';
import { assertCommitId, assertRelativePosixPath, unsafeValue } from '../core/dockerfile/validate.js';
import { capturedTree } from '../core/git.js';
import { besideSnapshot } from '../core/paths.js';
import type { Snapshot } from '../core/model.js';
import { OutputRefusedError, UserInputError } from '../errors.js';
import { assertWritableTarget, isInside, makeDir, removePath, sha256File, StagedFolder, statKind } from '../adapters/fs.js';
import { loadCompatTable, loadTemplates } from '../adapters/package-files.js';
import { runProcess } from '../adapters/process.js';
import { PROBE_SCRIPT } from '../adapters/python.js';
import { readSnapshot, serializeSnapshot } from '../adapters/snapshot-file.js';

/** uv's own image, pinned: it installs the exact captured Python when the base image lacks it. */
export const UV_IMAGE = 'ghcr.io/astral-sh/uv:0.13.8';

export interface DockerfileInput {
  snapshotPath: string;
  outputDir?: string;
  baseImage?: string;
  target?: 'gpu' | 'cpu';
  pythonFrom?: 'base' | 'apt' | 'uv';
  /** Where the code's git repository is; default: the folder the snapshot recorded. */
  codeDir?: string;
  noCode: boolean;
  /** Build the commit alone when the snapshot's uncommitted changes were not captured (refused otherwise). */
  commitOnly: boolean;
  force: boolean;
  cwd: string;
  toolVersion: string;
  timeoutMs: number;
}

export interface DockerfileResult {
  outputDir: string;
  files: string[];
  plan: DockerfilePlan;
  code: { included: boolean; commit: string | null; patched: boolean; commitOnly: boolean; submodules: Array<{ path: string; commit: string; patched: boolean }>; reason: string | null };
}


// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f\u2028\u2029]/;

function assertNotInside(outputDir: string, holds: Array<[string, string]>): void {
  for (const [what, path] of holds) {
    if (isInside(outputDir, path)) {
      throw new OutputRefusedError('OUTPUT_OVERLAPS', `the build context folder ${outputDir} would hold ${what} (${path}), and writing it replaces the folder`, {
        hint: 'Choose a new folder for --output-dir.',
      });
    }
  }
}

/** A submodule the code layer rebuilds: its checkout in the user's repository, its commit, its patch. */
interface SubmoduleSource {
  path: string;
  dir: string;
  commit: string;
  patch: string | null;
}

/** `root`: the repository's top level (the patch has full-tree paths); `subdir`: the code folder in it. */
type CodeSource =
  | { repo: string; root: string; subdir: string; commit: string; patch: string | null; commitOnly: boolean; submodules: SubmoduleSource[]; warnings: string[] }
  | { reason: string };

/** What the snapshot says about one tree: the superproject, or a submodule. */
interface TreeRecord {
  commit: string;
  dirty: boolean;
  patch_file: string | null;
  patch_sha256: string | null;
  patch_size: number | null;
  patch_error: string | null;
}

/**
 * The snapshot's code must be the tree the training ran on: uncommitted changes that were not
 * captured are refused (unless --commit-only), and a patch that is not byte for byte the one
 * captured is refused, naming it. `submodule`: the submodule's path, null for the repository itself.
 */
async function checkCapturedTree(record: TreeRecord, submodule: string | null, field: string, snapshotPath: string, commitOnly: boolean): Promise<{ patch: string | null; commitOnly: boolean; warnings: string[] }> {
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
  const patch = resolve(snapshotDir, tree.patchFile);
  if (CONTROL.test(tree.patchFile)) throw unsafeValue(`${field}.patch_file`, tree.patchFile, 'contains a control character');
  if (isAbsolute(tree.patchFile) || !isInside(snapshotDir, patch)) throw unsafeValue(`${field}.patch_file`, tree.patchFile, "points outside the snapshot's folder");
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
    throw new UserInputError('PATCH_MODIFIED', `the captured patch ${patch} is not the one the snapshot recorded: ${actual.size} bytes with sha256 ${actual.sha256.slice(0, 16)}..., recorded ${record.patch_size ?? '?'} bytes with sha256 ${record.patch_sha256.slice(0, 16)}...`, {
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
async function locateSubmodules(git: GitRecord, root: string, snapshotPath: string, commitOnly: boolean, timeoutMs: number): Promise<{ submodules: SubmoduleSource[]; commitOnly: boolean; warnings: string[] }> {
  const records: unknown = git.submodules ?? [];
  if (!Array.isArray(records)) throw unsafeValue('code.git.submodules', records, 'is not a list');
  const submodules: SubmoduleSource[] = [];
  const warnings: string[] = [];
  let onlyCommits = false;
  for (const [i, sub] of (records as GitRecord['submodules']).entries()) {
    const field = `code.git.submodules[${i}]`;
    const path = assertRelativePosixPath(sub?.path, `${field}.path`);
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

/** Finds the repository and patches for the code layer, refusing paths from the snapshot that leave its folder. */
async function locateCode(snapshot: Snapshot, input: DockerfileInput, snapshotPath: string): Promise<CodeSource> {
  const git = snapshot.code?.git;
  if (input.noCode) return { reason: '--no-code was given' };
  if (!git) return { reason: 'the snapshot recorded no git commit' };
  if (git.commit === null) return { reason: 'the repository had no commit yet when the snapshot was captured' };
  const commit = assertCommitId(git.commit, 'code.git.commit');
  // Before any repository is looked for: a snapshot that cannot give back its code is refused first.
  const tree = await checkCapturedTree({ ...git, commit }, null, 'code.git', snapshotPath, input.commitOnly);
  const repo = input.codeDir !== undefined ? resolve(input.cwd, input.codeDir) : snapshot.code?.path ?? '';
  if (!isAbsolute(repo) || CONTROL.test(repo) || (await statKind(repo)) !== 'directory') {
    return { reason: `the code folder ${JSON.stringify(repo).slice(0, 120)} is not here (pass --code DIR)` };
  }
  const has = await runProcess('git', ['-C', repo, 'cat-file', '-e', `${commit}^{commit}`], { timeoutMs: input.timeoutMs });
  if (has.outcome !== 'ok') return { reason: `commit ${commit.slice(0, 12)} is not in ${repo} (fetch it, or pass --code DIR)` };
  // The code folder may be a subfolder of its repository: the layer is the whole tree, as the
  // patch is, and the image starts in that subfolder. A subfolder name that cannot be written
  // safely leaves the image at the root.
  const top = await runProcess('git', ['-C', repo, 'rev-parse', '--show-toplevel'], { timeoutMs: input.timeoutMs });
  const root = top.outcome === 'ok' ? top.stdout.trim() : repo;
  const inside = relative(root, repo).split(sep).join('/');
  const subs = await locateSubmodules(git, root, snapshotPath, input.commitOnly, input.timeoutMs);
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

/**
 * git archive of the commit, extracted, then each submodule's tree at its commit into its folder
 * (parents before the submodules nested in them), with the captured patches applied outside any
 * repository.
 */
async function writeCode(staged: StagedFolder, source: { root: string; commit: string; patch: string | null; submodules: SubmoduleSource[] }, timeoutMs: number): Promise<void> {
  const tarPath = staged.path('.code.tar');
  const codeDir = staged.path('code');
  await makeDir(codeDir);
  const step = async (what: string, command: string, args: string[], cwd?: string) => {
    // GIT_CEILING_DIRECTORIES: the staging folder may sit inside the user's repository, and git
    // apply must treat the extracted tree as plain files, not as part of that repository.
    const result = await runProcess(command, args, { cwd, timeoutMs, env: { ...process.env, GIT_CEILING_DIRECTORIES: dirname(codeDir) } });
    if (result.outcome !== 'ok') throw new UserInputError('CODE_LAYER_FAILED', `${what} failed: ${result.reason ?? 'unknown error'}`, { hint: 'Pass --no-code to leave the code out of the image.' });
  };
  const extract = async (what: string, repo: string, commit: string, into: string) => {
    await makeDir(into);
    await step(`git archive of ${what}`, 'git', ['-C', repo, 'archive', '--format=tar', '-o', tarPath, commit]);
    await step(`extracting ${what}`, 'tar', ['-xf', tarPath, '-C', into, '--no-same-owner']);
    await removePath(tarPath);
  };
  await extract(source.commit.slice(0, 12), source.root, source.commit, codeDir);
  const ordered = [...source.submodules].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  for (const sub of ordered) await extract(`submodule ${sub.path}`, sub.dir, sub.commit, join(codeDir, ...sub.path.split('/')));
  if (source.patch !== null) await step('applying the captured patch', 'git', ['apply', '--whitespace=nowarn', source.patch], codeDir);
  for (const sub of ordered) {
    if (sub.patch !== null) await step(`applying the captured patch of submodule ${sub.path}`, 'git', ['apply', '--whitespace=nowarn', sub.patch], join(codeDir, ...sub.path.split('/')));
  }
}

export async function generateDockerfile(input: DockerfileInput): Promise<DockerfileResult> {
  const snapshotPath = resolve(input.cwd, input.snapshotPath);
  const snapshot = await readSnapshot(snapshotPath);
  const outputDir = input.outputDir !== undefined ? resolve(input.cwd, input.outputDir) : besideSnapshot(snapshotPath, '.docker');
  await assertWritableTarget(outputDir, input.force, 'build context folder');
  // --force replaces the whole folder: never one that holds what this run reads or stands in.
  assertNotInside(outputDir, [['the snapshot', snapshotPath], ['the current folder', input.cwd]]);
  const [table, templates, code] = await Promise.all([loadCompatTable(), loadTemplates(), locateCode(snapshot, input, snapshotPath)]);

  const included = 'repo' in code;
  if (included) assertNotInside(outputDir, [['the code repository', code.root]]);
  const plan = planDockerfile(
    snapshot,
    {
      target: input.target,
      pythonFrom: input.pythonFrom,
      baseImage: input.baseImage,
      toolVersion: input.toolVersion,
      uvImage: UV_IMAGE,
      code: included
        ? {
            included: true,
            commit: code.commit,
            patched: code.patch !== null,
            commitOnly: code.commitOnly,
            subdir: code.subdir,
            submodules: code.submodules.map((sub) => ({ path: sub.path, commit: sub.commit, patched: sub.patch !== null })),
          }
        : { included: false, reason: code.reason },
    },
    table,
    templates,
  );

  const staged = await StagedFolder.create(outputDir);
  try {
    await staged.writeFile('Dockerfile', plan.files.Dockerfile);
    await staged.writeFile('requirements.txt', plan.files['requirements.txt']);
    if (plan.files['keras.json'] !== undefined) await staged.writeFile('keras.json', plan.files['keras.json']);
    await staged.writeFile('snapshot.yaml', serializeSnapshot(snapshot));
    await copyFile(PROBE_SCRIPT, staged.path('snapshot_probe.py'));
    if (included) await writeCode(staged, code, input.timeoutMs);
    await staged.commit(input.force);
  } catch (error) {
    await staged.discard();
    throw error;
  }
  const warnings = included ? [...code.warnings, ...plan.warnings] : [...plan.warnings, `The code is not in the image: ${code.reason}.`];
  return {
    outputDir,
    files: ['Dockerfile', 'requirements.txt', ...(plan.files['keras.json'] !== undefined ? ['keras.json'] : []), 'snapshot.yaml', 'snapshot_probe.py', ...(included ? ['code/'] : [])],
    plan: { ...plan, warnings },
    code: included
      ? { included: true, commit: code.commit, patched: code.patch !== null, commitOnly: code.commitOnly, submodules: code.submodules.map((sub) => ({ path: sub.path, commit: sub.commit, patched: sub.patch !== null })), reason: null }
      : { included: false, commit: null, patched: false, commitOnly: false, submodules: [], reason: code.reason },
  };
}
