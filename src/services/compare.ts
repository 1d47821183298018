// `snapshot compare`: pair the outputs of two folders (or two files, or a snapshot's baseline and a
// folder), judge each with the reader for its format under the policy, and fold it all into one
// verdict. Outputs are judged several at a time; one unreadable output never stops the others.
import { basename, dirname, extname, join, resolve } from 'node:path';
import { compareCsv, decodeTableText } from '../core/compare/csv.js';
import { absentItems, foldOutput } from '../core/compare/fold.js';
import { bytesFeed, StreamCursor } from '../core/compare/json-cursor.js';
import { compareByteContents } from '../core/compare/bytes.js';
import { compareJsonDocuments } from '../core/compare/metrics.js';
import type { CompareReport, OutputReport } from '../core/compare/model.js';
import { buildPolicy, type Policy, type ResolvedOutputPolicy } from '../core/compare/policy.js';
import { formatOf, summarize, verdictOf } from '../core/compare/verdict.js';
import { UserInputError } from '../errors.js';
import { compareBytesFiles } from '../adapters/readers/bytes-file.js';
import { hashFiles, isInside, openSyncFeed, readSmallFileSync, readWholeFile, statKind, walkFiles } from '../adapters/fs.js';

export interface CompareInput {
  baseline: string;
  candidate: string;
  policyPath?: string;
  cwd: string;
  log?: (line: string) => void;
  /** Outputs judged at once (default 8): many small files are bound by their latency, not the disk. */
  concurrency?: number;
}

export interface CompareResult {
  report: CompareReport;
  warnings: string[];
}

interface Side {
  root: string;
  kind: 'directory' | 'file';
  /** Relative path -> absolute path. */
  files: Map<string, string>;
  /** Entries that cannot be compared (symlinks out of the folder, unreadable folders), with why. */
  unusable: Map<string, string>;
}

async function readSide(path: string, flag: 'BASELINE' | 'CANDIDATE'): Promise<Side> {
  const kind = await statKind(path);
  if (kind === 'missing') throw new UserInputError(`${flag}_NOT_FOUND`, `${flag} ${path}: no such file or folder`, { hint: 'Pass two output folders, two files, or a snapshot with a baseline and a folder.' });
  if (kind === 'other') throw new UserInputError(`${flag}_NOT_REGULAR`, `${flag} ${path}: not a regular file or folder`);
  if (kind === 'file') return { root: dirname(path), kind, files: new Map([[basename(path), path]]), unusable: new Map() };
  const unusable = new Map<string, string>();
  // A folder that cannot be read is one output's error, not the end of the comparison.
  const walked = await walkFiles(path, (rel, reason) => unusable.set(rel, reason), { unreadableFolders: 'report' });
  // Names that are not UTF-8 were skipped (and reported): every path here is a string.
  return { root: path, kind, files: new Map(walked.map((f) => [f.relativePath, String(f.absolutePath)])), unusable };
}

/** A snapshot file as BASELINE means its kept baseline, checked against the manifest capture wrote. */
async function resolveBaseline(path: string, warnings: string[]): Promise<string> {
  if (!/\.ya?ml$/i.test(path) || (await statKind(path)) !== 'file') return path;
  // YAML and JSON Schema are loaded only when a snapshot or a policy is read: a plain folder
  // comparison starts faster without them.
  const { readSnapshot } = await import('../adapters/snapshot-file.js');
  const snapshot = await readSnapshot(path);
  const baseline = snapshot.run?.baseline;
  if (!baseline) {
    throw new UserInputError('NO_BASELINE', `${path} has no baseline: it was captured without --run, or its run failed`, {
      hint: 'Capture with --run CMD --outputs DIR, or compare two folders.',
    });
  }
  const dir = resolve(dirname(path), baseline.dir);
  if (!isInside(resolve(dirname(path)), dir)) {
    throw new UserInputError('UNSAFE_SNAPSHOT_VALUE', `run.baseline.dir: ${JSON.stringify(baseline.dir)} points outside the snapshot's folder`, { hint: 'The snapshot file has been edited or is corrupt; recapture it.' });
  }
  // The manifest is what capture saw; a baseline file edited since then is worth knowing about.
  const present = baseline.files.filter((f) => !f.path.split('/').includes('..'));
  const onDisk = await hashFiles(present.map((f) => ({ relativePath: f.path, absolutePath: join(dir, f.path) }))).catch(() => null);
  if (onDisk === null) {
    warnings.push(`some baseline files listed in ${path} cannot be read in ${dir}`);
  } else {
    for (const [i, file] of present.entries()) {
      if (onDisk[i]?.sha256 !== file.sha256) warnings.push(`baseline ${file.path} has changed since capture (its sha256 no longer matches the snapshot's manifest)`);
    }
  }
  return dir;
}

function compareJsonFiles(path: string, a: string, b: string, rules: ResolvedOutputPolicy): OutputReport {
  const feeds: Array<ReturnType<typeof openSyncFeed>> = [];
  const feed = (file: string, label: string) => {
    const opened = openSyncFeed(file, label);
    feeds.push(opened);
    return opened;
  };
  try {
    // Opened again, from the start, if a key repeats (compareJsonDocuments).
    const open = () => {
      for (const f of feeds.splice(0)) f.close();
      return [new StreamCursor(feed(a, 'baseline'), `baseline ${a}`), new StreamCursor(feed(b, 'candidate'), `candidate ${b}`)] as const;
    };
    const result = compareJsonDocuments(open, rules.metrics);
    return foldOutput(path, 'json', { metrics: result.listed, summarized: { status: result.status, ...(result.message ? { message: result.message } : {}) } });
  } catch (error) {
    return foldOutput(path, 'json', { errors: [error instanceof Error ? error.message : String(error)] });
  } finally {
    for (const f of feeds) f.close();
  }
}

/** Files up to this size are read whole, synchronously, for the text formats (bytes, JSON, CSV). */
const SMALL_FILE_BYTES = 1024 * 1024;

/** Small text-format outputs, read whole: no streams, no thread-pool round trips. Null when either side is large. */
function compareSmall(path: string, format: OutputReport['format'], a: string, b: string, rules: ResolvedOutputPolicy): OutputReport | null {
  if (format !== 'bytes' && format !== 'json' && format !== 'csv') return null;
  let left: Buffer | null;
  let right: Buffer | null;
  try {
    left = readSmallFileSync(a, SMALL_FILE_BYTES, 'baseline');
    right = left === null ? null : readSmallFileSync(b, SMALL_FILE_BYTES, 'candidate');
  } catch (error) {
    return { path, format, status: 'error', message: error instanceof Error ? error.message : String(error) };
  }
  if (left === null || right === null) return null;
  if (format === 'bytes') return compareByteContents(path, left, right);
  // Equal bytes are equal content for these formats: nothing to parse, unless a NaN must fail even against itself.
  if (!rules.nanStrict && left.equals(right)) {
    if (rules.pendingRules()) useRulesOf(format, left, rules);
    return { path, format, status: 'identical' };
  }
  if (format === 'json') {
    try {
      const result = compareJsonDocuments(() => [new StreamCursor(bytesFeed(left), `baseline ${a}`), new StreamCursor(bytesFeed(right), `candidate ${b}`)], rules.metrics);
      return foldOutput(path, 'json', { metrics: result.listed, summarized: { status: result.status, ...(result.message ? { message: result.message } : {}) } });
    } catch (error) {
      return foldOutput(path, 'json', { errors: [error instanceof Error ? error.message : String(error)] });
    }
  }
  return csvOutput(path, left, right, rules, a, b);
}

/**
 * Walks a byte-identical document's keys so the rules that match them count as used (a rule that
 * matches is never "matched nothing"); the verdict stays identical whatever the walk meets.
 */
function useRulesOf(format: OutputReport['format'], bytes: Buffer, rules: ResolvedOutputPolicy): void {
  try {
    if (format === 'json') compareJsonDocuments(() => [new StreamCursor(bytesFeed(bytes)), new StreamCursor(bytesFeed(bytes))], rules.metrics);
    else if (format === 'csv') {
      const text = decodeTableText(bytes);
      if (text !== null) compareCsv(text, text, rules.metrics);
    }
  } catch {
    // Not a document: no key, so no rule, to mark.
  }
}

function csvOutput(path: string, left: Uint8Array, right: Uint8Array, rules: ResolvedOutputPolicy, a: string, b: string): OutputReport {
  const [textA, textB] = [decodeTableText(left), decodeTableText(right)];
  const notText = [textA === null ? `baseline ${a}` : null, textB === null ? `candidate ${b}` : null].filter((m) => m !== null);
  if (textA === null || textB === null) return foldOutput(path, 'csv', { errors: notText.map((side) => `${side} is not valid UTF-8 text`) });
  const result = compareCsv(textA, textB, rules.metrics);
  if (result.status === 'error') return foldOutput(path, 'csv', { errors: [result.message ?? 'cannot read the CSV'] });
  return foldOutput(path, 'csv', { metrics: result.metrics, summarized: { status: result.status, ...(result.message ? { message: result.message } : {}) } });
}

/**
 * Loads, ahead of time, the readers these outputs will need, HDF5's wasm module above all (about
 * 0.3 s to compile): a replay calls this when the training starts, so the comparison after it
 * does not wait. Never fails: the comparison itself reports what cannot load.
 */
export async function warmReaders(outputPaths: readonly string[]): Promise<void> {
  const formats = new Set(outputPaths.map((path) => formatOf(path)));
  try {
    if (formats.has('h5') || formats.has('keras')) await (await import('../adapters/readers/hdf5-file.js')).warmHdf5();
    if (formats.has('keras')) await import('../adapters/readers/keras-file.js');
    if (formats.has('npy') || formats.has('npz')) await import('../adapters/readers/npz-file.js');
  } catch {
    // Said by the comparison, if it matters.
  }
}

async function compareOne(path: string, a: string, b: string, rules: ResolvedOutputPolicy): Promise<OutputReport> {
  const format = formatOf(path);
  const small = compareSmall(path, format, a, b, rules);
  if (small !== null) return small;
  switch (format) {
    // The array and archive readers (and yauzl) load on first use: a folder of small JSON files
    // starts faster without them.
    case 'npy': {
      const { compareNpyFiles } = await import('../adapters/readers/npy-file.js');
      const result = await compareNpyFiles(a, b, rules.tolerance);
      return foldOutput(path, format, { tensors: result.tensors, errors: result.error === undefined ? [] : [result.error] });
    }
    case 'npz': {
      const { compareNpzFiles } = await import('../adapters/readers/npz-file.js');
      const result = await compareNpzFiles(a, b, (name) => rules.tensorTolerance(name));
      return foldOutput(path, format, { tensors: result.tensors, metrics: [...result.entries.filter((e) => e.status !== 'identical'), ...absentItems(result.missing, result.extra, 'entry')], errors: result.error === undefined ? [] : [result.error] });
    }
    case 'h5': {
      // Loaded on first use: importing h5wasm costs about 0.1 s that other comparisons need not pay.
      const { compareH5Files } = await import('../adapters/readers/hdf5-file.js');
      const result = await compareH5Files(a, b, rules.tolerance, { toleranceFor: (name) => rules.tensorTolerance(name) });
      const metrics = [...result.attributes, ...result.structure].filter((m) => m.status !== 'identical').concat(absentItems(result.missing, result.extra, 'dataset'));
      return foldOutput(path, format, { tensors: result.tensors, metrics, errors: result.error === undefined ? [] : [result.error] });
    }
    case 'keras': {
      const { compareKerasFiles } = await import('../adapters/readers/keras-file.js');
      return compareKerasFiles(a, b, rules, path);
    }
    case 'json':
      return compareJsonFiles(path, a, b, rules);
    case 'csv': {
      const [left, right] = await Promise.all([readWholeFile(a, 'baseline output'), readWholeFile(b, 'candidate output')]);
      return csvOutput(path, left, right, rules, a, b);
    }
    default:
      return compareBytesFiles(a, b, path);
  }
}

/** Runs the tasks with at most `limit` at once; the results keep the tasks' order. */
async function inOrder<T>(tasks: Array<() => Promise<T>>, limit: number): Promise<T[]> {
  const results: T[] = new Array(tasks.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (;;) {
      const index = next++;
      const task = tasks[index];
      if (task === undefined) return;
      results[index] = await task();
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, tasks.length)) }, () => worker()));
  return results;
}

export async function compareOutputs(input: CompareInput): Promise<CompareResult> {
  const warnings: string[] = [];
  const policyDocument = input.policyPath !== undefined ? await (await import('../adapters/policy-file.js')).readPolicy(resolve(input.cwd, input.policyPath)) : null;
  const policy: Policy = buildPolicy(policyDocument);
  const baselinePath = await resolveBaseline(resolve(input.cwd, input.baseline), warnings);
  const [baseline, candidate] = await Promise.all([readSide(baselinePath, 'BASELINE'), readSide(resolve(input.cwd, input.candidate), 'CANDIDATE')]);
  if (baseline.kind !== candidate.kind) {
    throw new UserInputError('KINDS_DIFFER', `BASELINE is a ${baseline.kind} and CANDIDATE a ${candidate.kind}: compare two folders or two files`, {
      hint: 'Pass the outputs folder on both sides, or one file on each side.',
    });
  }

  const tasks: Array<() => Promise<OutputReport>> = [];
  if (baseline.kind === 'file') {
    const [nameA, a] = [...baseline.files][0] as [string, string];
    const [nameB, b] = [...candidate.files][0] as [string, string];
    const rules = policy.forOutput(nameA);
    if (formatOf(nameA) !== formatOf(nameB)) {
      const [extA, extB] = [extname(nameA).toLowerCase(), extname(nameB).toLowerCase()];
      tasks.push(async () => ({ path: nameA, format: formatOf(nameA), status: 'error', message: `the two files are of different kinds (${extA || 'no extension'} vs ${extB || 'no extension'}): ${a} and ${b}` }));
    } else {
      tasks.push(() => judge(nameA, a, b, rules));
    }
  } else {
    const paths = [...new Set([...baseline.files.keys(), ...candidate.files.keys(), ...baseline.unusable.keys(), ...candidate.unusable.keys()])].sort();
    for (const path of paths) {
      const rules = policy.forOutput(path);
      const format = formatOf(path);
      // Before missing/extra: an output the policy ignores is not missed either.
      if (rules.tolerance.mode === 'ignore') {
        tasks.push(async () => ignoredOutput(path, rules));
        continue;
      }
      const unusable = baseline.unusable.get(path) ?? candidate.unusable.get(path);
      if (unusable !== undefined) {
        const side = baseline.unusable.has(path) ? 'baseline' : 'candidate';
        tasks.push(async () => ({ path, format, status: 'error', message: `${side} ${path} is ${unusable}; not compared` }));
        continue;
      }
      const a = baseline.files.get(path);
      const b = candidate.files.get(path);
      if (a === undefined) tasks.push(async () => ({ path, format, status: 'extra', message: 'only in the candidate' }));
      else if (b === undefined) tasks.push(async () => ({ path, format, status: 'missing', message: 'in the baseline but missing from the candidate' }));
      else tasks.push(() => judge(path, a, b, rules));
    }
    if (baseline.files.size === 0 && baseline.unusable.size === 0) warnings.push(`the baseline folder ${baseline.root} has no outputs: there is nothing to judge`);
  }
  if (tasks.length > 20) input.log?.(`comparing ${tasks.length} outputs`);
  const outputs = await inOrder(tasks, input.concurrency ?? 8);
  for (const unused of policy.unusedRules()) warnings.push(`policy ${input.policyPath ?? ''}: ${unused}`);

  const summary = summarize(outputs.map((o) => o.status));
  return {
    report: { verdict: verdictOf(summary), baseline: baseline.kind === 'file' ? baselinePath : baseline.root, candidate: resolve(input.cwd, input.candidate), policy: input.policyPath ?? null, summary, outputs },
    warnings,
  };
}

function ignoredOutput(path: string, rules: ResolvedOutputPolicy): OutputReport {
  return { path, format: formatOf(path), status: 'ignored', message: `ignored by the policy (${rules.source})` };
}

/** One output, never throwing: whatever goes wrong becomes that output's `error`. */
async function judge(path: string, a: string, b: string, rules: ResolvedOutputPolicy): Promise<OutputReport> {
  if (rules.tolerance.mode === 'ignore') return ignoredOutput(path, rules);
  try {
    return await compareOne(path, a, b, rules);
  } catch (error) {
    return { path, format: formatOf(path), status: 'error', message: error instanceof Error ? error.message : String(error) };
  }
}
