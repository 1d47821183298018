// Where a replay puts things: the captured working directory, the outputs folder and each data
// path, placed in the replay's environment from where they were relative to the repository at
// capture. Pure: the snapshot and the replay machine's folders in, paths out; every path read from
// the snapshot is checked before it becomes one.
import { isAbsolute, posix, relative, resolve, sep } from 'node:path';
import type { Snapshot } from '../model.js';
import { UserInputError } from '../../errors.js';

export interface DataRoot {
  /** The captured absolute path (a prefix of data paths). */
  captured: string;
  /** Where that folder is on the replay machine. */
  here: string;
}

export interface PlacedData {
  index: number;
  /** As the user passed it at capture. */
  captured: string;
  /** On the replay machine. */
  source: string;
  /** Inside the environment. */
  target: string;
  /** Where it came from: "in the repository", "--data-root", "at its captured path". */
  how: string;
}

export interface ReplayLayout {
  /** Inside the environment, absolute. */
  workdir: string;
  outputsPath: string;
  data: PlacedData[];
  warnings: string[];
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

const SYSTEM_FOLDERS: ReadonlySet<string> = new Set(['/', '/bin', '/boot', '/dev', '/etc', '/home', '/lib', '/lib64', '/opt', '/proc', '/root', '/run', '/sbin', '/srv', '/sys', '/tmp', '/usr', '/var', '/workspace']);

function unsafe(field: string, value: unknown, why: string): UserInputError {
  return new UserInputError('UNSAFE_SNAPSHOT_VALUE', `${field}: ${JSON.stringify(value)?.slice(0, 200)} ${why}`, { hint: 'The snapshot file has been edited or is corrupt; recapture it.' });
}

/** A path relative to the repository root: POSIX, no "..", no leading "/", no control characters. */
export function checkInRepo(value: unknown, field: string): string {
  if (typeof value !== 'string' || CONTROL.test(value) || value.startsWith('/') || value.split('/').some((part) => part === '..')) throw unsafe(field, value, 'is not a path inside the repository');
  const normal = posix.normalize(value === '' ? '.' : value);
  return normal === '.' ? '' : normal.replace(/\/$/, '');
}

function checkAbsolute(value: unknown, field: string): string {
  if (typeof value !== 'string' || CONTROL.test(value) || !posix.isAbsolute(value)) throw unsafe(field, value, 'is not an absolute path');
  return posix.normalize(value);
}

/** `path` relative to `root` when inside it (POSIX), else null. */
export function inside(root: string, path: string): string | null {
  const rel = relative(root, path);
  if (rel === '') return '';
  if (rel.startsWith('..') || isAbsolute(rel)) return null;
  return rel.split(sep).join('/');
}

/** The code folder's, the working directory's and the outputs' places relative to the repository root. */
export function repositoryPlaces(snapshot: Snapshot, legacySubdir: string | null = null): { codeInRepo: string; cwdInRepo: string | null; outputsInRepo: string | null; outputsAbsolute: string | null; cwdAbsolute: string | null; warnings: string[] } {
  const warnings: string[] = [];
  const code = snapshot.code;
  const run = snapshot.run;
  const cwdAbsolute = run ? checkAbsolute(run.cwd, 'run.cwd') : null;
  const outputsAbsolute = run ? (run.outputs_path ?? (cwdAbsolute === null ? null : posix.resolve(cwdAbsolute, run.outputs_dir))) : null;
  if (code?.in_repo !== undefined && code.in_repo !== null && code.repo_root !== null && code.repo_root !== undefined) {
    return {
      codeInRepo: checkInRepo(code.in_repo, 'code.in_repo'),
      cwdInRepo: run?.cwd_in_repo === null || run?.cwd_in_repo === undefined ? null : checkInRepo(run.cwd_in_repo, 'run.cwd_in_repo'),
      outputsInRepo: run?.outputs_in_repo === null || run?.outputs_in_repo === undefined ? null : checkInRepo(run.outputs_in_repo, 'run.outputs_in_repo'),
      outputsAbsolute: outputsAbsolute === null ? null : checkAbsolute(outputsAbsolute, 'run.outputs_path'),
      cwdAbsolute,
      warnings,
    };
  }
  // An older snapshot recorded absolute paths only: its code folder is the repository's root, or
  // the subfolder --code names in the clone.
  const root = code?.path ? checkAbsolute(code.path, 'code.path') : null;
  const codeInRepo = legacySubdir === null ? '' : checkInRepo(legacySubdir, '--code');
  warnings.push(
    codeInRepo === ''
      ? 'the snapshot (an older schema) does not record where its paths sit in the repository: its code folder is taken as the repository root (if it was a subfolder, pass --code CLONE/SUBFOLDER)'
      : `the snapshot (an older schema) does not record where its paths sit in the repository: its code folder is taken to be ${codeInRepo}, as --code says`,
  );
  const inCode = (rel: string | null) => (rel === null ? null : codeInRepo === '' ? rel : rel === '' ? codeInRepo : `${codeInRepo}/${rel}`);
  return {
    codeInRepo,
    cwdInRepo: root !== null && cwdAbsolute !== null ? inCode(inside(root, cwdAbsolute)) : null,
    outputsInRepo: root !== null && outputsAbsolute !== null ? inCode(inside(root, outputsAbsolute)) : null,
    outputsAbsolute,
    cwdAbsolute,
    warnings,
  };
}

/**
 * Places the run in an environment whose repository root is `codeRoot` (an absolute POSIX path
 * inside it), with the replay machine's clone at `repoHere` (null without code) and the user's
 * --data-root maps.
 */
export function placeReplay(snapshot: Snapshot, codeRoot: string, repoHere: string | null, dataRoots: readonly DataRoot[], legacySubdir: string | null = null): ReplayLayout {
  const run = snapshot.run;
  if (run === null) throw new UserInputError('NOTHING_TO_REPLAY', 'nothing to replay: the snapshot has no run', { hint: 'Capture with --run CMD --outputs DIR to record the training and keep its baseline.' });
  const places = repositoryPlaces(snapshot, legacySubdir);
  const warnings = [...places.warnings];
  const inEnv = (rel: string) => (rel === '' ? codeRoot : posix.join(codeRoot, rel));
  // A working directory outside the repository has no place in the environment but its captured one.
  const workdir = places.cwdInRepo !== null ? inEnv(places.cwdInRepo) : (places.cwdAbsolute ?? inEnv(places.codeInRepo));
  if (places.cwdInRepo === null) warnings.push(`the training ran in ${places.cwdAbsolute}, outside its repository: the replay runs it in that same path`);
  // A relative --outputs was relative to the working directory, and so is what the training
  // writes: it is placed from the working directory, whatever links the capture's paths went through.
  const relativeOutputs = !posix.isAbsolute(run.outputs_dir);
  if (relativeOutputs && CONTROL.test(run.outputs_dir)) throw unsafe('run.outputs_dir', run.outputs_dir, 'contains a control character');
  const outputsPath = relativeOutputs ? posix.resolve(workdir, run.outputs_dir) : places.outputsInRepo !== null ? inEnv(places.outputsInRepo) : (places.outputsAbsolute ?? posix.resolve(workdir, run.outputs_dir));
  // Copying `/` or a system folder out of the environment is never what a training's outputs are.
  if (SYSTEM_FOLDERS.has(outputsPath)) throw unsafe('run.outputs_dir', run.outputs_dir, `places the outputs at ${outputsPath}, a system folder`);
  const data: PlacedData[] = snapshot.data.map((record, index) => {
    const field = `data[${index}]`;
    const inRepo = record.in_repo === null || record.in_repo === undefined ? null : checkInRepo(record.in_repo, `${field}.in_repo`);
    const absolute = record.absolute === null || record.absolute === undefined ? (places.cwdAbsolute === null ? null : posix.resolve(places.cwdAbsolute, record.path)) : checkAbsolute(record.absolute, `${field}.absolute`);
    if (CONTROL.test(record.path)) throw unsafe(`${field}.path`, record.path, 'contains a control character');
    // Where the training looks for it: a relative path from its working directory, as it was given.
    const target = !posix.isAbsolute(record.path) ? posix.resolve(workdir, record.path) : inRepo !== null ? inEnv(inRepo) : absolute;
    const mapped = absolute === null ? undefined : [...dataRoots].sort((a, b) => b.captured.length - a.captured.length).find((root) => inside(root.captured, absolute) !== null);
    if (mapped !== undefined && absolute !== null) {
      const rest = inside(mapped.captured, absolute) as string;
      return { index, captured: record.path, source: rest === '' ? mapped.here : resolve(mapped.here, ...rest.split('/')), target: target ?? absolute, how: `--data-root ${mapped.captured}=${mapped.here}` };
    }
    if (inRepo !== null && repoHere !== null) return { index, captured: record.path, source: resolve(repoHere, ...(inRepo === '' ? [] : inRepo.split('/'))), target: target ?? inEnv(inRepo), how: 'in the repository' };
    if (absolute === null) throw unsafe(`${field}.path`, record.path, 'cannot be placed: the snapshot records no absolute path for it');
    return { index, captured: record.path, source: absolute, target: target ?? absolute, how: 'at its captured path' };
  });
  return { workdir, outputsPath, data, warnings };
}

/** Parses --data-root CAPTURED=HERE values. */
export function parseDataRoots(values: readonly string[], cwd: string): DataRoot[] {
  return values.map((value) => {
    const at = value.indexOf('=');
    const captured = at > 0 ? value.slice(0, at) : '';
    const here = at > 0 ? value.slice(at + 1) : '';
    if (!posix.isAbsolute(captured) || here === '') {
      throw new UserInputError('DATA_ROOT_INVALID', `--data-root ${value}: expected CAPTURED=HERE, CAPTURED an absolute path the snapshot recorded`, { hint: 'For example --data-root /data/imagenet=/mnt/datasets/imagenet.' });
    }
    return { captured: posix.normalize(captured), here: resolve(cwd, here) };
  });
}
