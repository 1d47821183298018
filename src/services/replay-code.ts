// Which repository a replay takes the code from, on a machine where the snapshot was cloned to
// another path by another user: --code DIR, else the git repository that holds the snapshot file,
// else the current folder's, else the path the snapshot recorded. The captured commit must be in it.
import { dirname, relative, resolve, sep } from 'node:path';
import { assertCommitId } from '../core/dockerfile/validate.js';
import type { Snapshot } from '../core/model.js';
import { UserInputError } from '../errors.js';
import { canonicalPath, statKind } from '../adapters/fs.js';
import { gitTopLevel, hasCommit } from '../adapters/git.js';

export interface LocatedRepository {
  /** The repository's top level on this machine. */
  root: string;
  commit: string;
  /** How it was found: "--code", "the snapshot's repository", "the current folder's repository", "the captured path". */
  how: string;
  /** With --code: the folder it names, relative to the repository's root ('' for the root), else null. */
  subdir: string | null;
  warnings: string[];
}

export async function locateRepository(snapshot: Snapshot, snapshotPath: string, options: { codeDir?: string; cwd: string; signal?: AbortSignal }): Promise<LocatedRepository> {
  const git = snapshot.code?.git;
  if (!git) {
    throw new UserInputError('NO_CODE_COMMIT', `${snapshotPath}: the snapshot recorded no git commit, so the code it ran cannot be rebuilt`, { hint: 'Capture from a git repository (commit the training code first).' });
  }
  if (git.commit === null) {
    throw new UserInputError('NO_CODE_COMMIT', `${snapshotPath}: the repository had no commit yet when the snapshot was captured, so the code it ran cannot be rebuilt`, { hint: 'Commit the training code and capture again.' });
  }
  const commit = assertCommitId(git.commit, 'code.git.commit');
  const short = commit.slice(0, 12);
  if (options.codeDir !== undefined) {
    const dir = resolve(options.cwd, options.codeDir);
    if ((await statKind(dir)) !== 'directory') throw new UserInputError('CODE_DIR_INVALID', `--code ${options.codeDir}: no such folder`, { hint: 'Pass the clone of the repository the snapshot was captured from.' });
    const root = await gitTopLevel(dir, undefined, options.signal);
    if (root === null) throw new UserInputError('CODE_NOT_A_REPOSITORY', `--code ${options.codeDir}: ${dir} is not in a git repository`, { hint: 'Pass the clone of the repository the snapshot was captured from.' });
    if (!(await hasCommit(root, commit, undefined, options.signal))) throw commitMissing(short, [root]);
    const real = await canonicalPath(dir);
    const subdir = relative(root, real).split(sep).join('/');
    return { root, commit, how: '--code', subdir: subdir.startsWith('..') ? null : subdir, warnings: [] };
  }
  const candidates: Array<[string, string]> = [
    [dirname(snapshotPath), "the snapshot's repository"],
    [options.cwd, "the current folder's repository"],
  ];
  const recorded = snapshot.code?.repo_root ?? snapshot.code?.path;
  if (typeof recorded === 'string' && recorded.startsWith('/')) candidates.push([recorded, 'the captured path']);
  const tried: string[] = [];
  for (const [dir, how] of candidates) {
    if ((await statKind(dir)) !== 'directory') continue;
    const root = await gitTopLevel(dir, undefined, options.signal);
    if (root === null || tried.includes(root)) continue;
    tried.push(root);
    if (await hasCommit(root, commit, undefined, options.signal)) return { root, commit, how, subdir: null, warnings: [] };
  }
  if (tried.length === 0) {
    throw new UserInputError('CODE_NOT_FOUND', `no git repository here holds the code of ${snapshotPath} (commit ${short})`, { hint: 'Run replay inside a clone of the repository the snapshot was captured from, or pass --code DIR.' });
  }
  throw commitMissing(short, tried);
}

function commitMissing(short: string, repos: string[]): UserInputError {
  return new UserInputError('COMMIT_NOT_HERE', `commit ${short}, which the training ran, is not in ${repos.join(' or ')}: fetch it`, {
    hint: `Run git fetch (the commit may be on another branch or remote: git fetch origin ${short}), or pass --code DIR with a clone that has it.`,
  });
}
