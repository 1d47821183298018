// `snapshot capture`: probe everything in parallel, optionally run the training, and write the
// snapshot plus its bundle (patches, data manifests, logs, baseline) without ever leaving half a
// file behind.
import { randomUUID } from 'node:crypto';
import { basename, delimiter, dirname, join, relative, resolve } from 'node:path';
import { assembleFrameworks, assembleGpu, assemblePackages, assemblePython, assembleSystem, systemProbeRecords } from '../core/assemble.js';
import { inlineAssignments } from '../core/command-line.js';
import { buildDeterminism } from '../core/determinism.js';
import { withRecorder, type RunRecording } from '../core/recording.js';
import { outputKind } from '../core/manifest.js';
import { manifestOfPath } from './data-manifest.js';
import { besideSnapshot } from '../core/paths.js';
import { inside } from '../core/replay/layout.js';
import { formatBytes } from '../core/units.js';
import { SCHEMA_VERSION, type DataRecord, type FileEntry, type PackageRecord, type ProbeRecord, type RunRecord, type Snapshot, type SubmoduleRecord } from '../core/model.js';
import { ExitCode, ExternalError, InternalError, InterruptedError, SnapshotError, UserInputError } from '../errors.js';
import {
  assertWritableTarget,
  canonicalPath,
  CappedLogFile,
  isEmptyFolder,
  isInside,
  makeTempDir,
  pathExists,
  removePath,
  StagedFolder,
  statKind,
  walkFiles,
  writeFileAtomic,
} from '../adapters/fs.js';
import { readGitState, type GitState } from '../adapters/git.js';
import { runShellCommand } from '../adapters/process.js';
import { readRecording, RECORDER_DIR } from '../adapters/probes/recorder.js';
import { runRepeats } from './repeat.js';
import { reloadCapturedModels } from './reload.js';
import { chooseInterpreter, runPythonProbe } from '../adapters/probes/python.js';
import { serializeSnapshot, validateSnapshot } from '../adapters/snapshot-file.js';
import { loadFindingRules } from '../adapters/package-files.js';
import { readHeaders, collectSystem } from '../adapters/probes/system-probes.js';

export interface CaptureInput {
  python?: string;
  codeDir: string;
  data: string[];
  run?: { command: string; outputsDir: string };
  /** Record what the training does (seeds, fit's model, parameters and data) through the recorder; default on (--no-record). */
  record?: boolean;
  /** Load every saved model among the outputs again and keep its predictions on a fixed input; default on (--no-reload). */
  reload?: boolean;
  /** --repeat N: run the training N times in all and record whether its outputs stay the same; --policy, --explain, --explain-budget. */
  repeat?: { runs: number; policyPath?: string; explain: boolean; explainBudget: number };
  output: string;
  force: boolean;
  probeTimeoutMs: number;
  env: NodeJS.ProcessEnv;
  cwd: string;
  toolVersion: string;
  /** Mirror the training's output on stderr while it runs. */
  echoRun: boolean;
  /** Where the training's echoed output goes (our stderr; nothing once it is closed). */
  echo?: (chunk: Buffer) => void;
  /**
   * Keep a snapshot whose uncommitted changes could not be saved as a patch (recorded as such);
   * without it that is an error before anything runs.
   */
  allowMissingPatch: boolean;
  /** Aborted by Ctrl-C or SIGTERM (its reason says which): every step stops and nothing is written. */
  signal?: AbortSignal;
  log: (line: string) => void;
  /** Bytes of each log kept at its head and its tail (default 1 MiB each). */
  logCapBytes?: number;
}

export interface CaptureResult {
  snapshot: Snapshot;
  snapshotPath: string;
  bundlePath: string | null;
  warnings: string[];
}

export class RunFailedError extends SnapshotError {
  constructor(message: string, readonly result: CaptureResult) {
    super('RUN_FAILED', message, ExitCode.runFailed, { hint: `See the logs in ${result.bundlePath ?? 'the bundle'}; the snapshot records the failure.` });
  }
}

async function checkInputs(input: CaptureInput, snapshotPath: string, bundlePath: string): Promise<void> {
  await assertWritableTarget(snapshotPath, input.force, 'snapshot');
  // The bundle holds the baseline and the patch: never replaced without --force either.
  await assertWritableTarget(bundlePath, input.force, 'bundle folder');
  const codeKind = await statKind(resolve(input.cwd, input.codeDir));
  if (codeKind !== 'directory') {
    throw new UserInputError('CODE_DIR_INVALID', `--code ${input.codeDir}: ${codeKind === 'missing' ? 'no such folder' : 'not a folder'}`, { hint: 'Pass the folder that holds the training code.' });
  }
  for (const path of input.data) {
    const kind = await statKind(resolve(input.cwd, path));
    if (kind === 'missing') throw new UserInputError('DATA_NOT_FOUND', `--data ${path}: no such file or folder`, { hint: 'Check the path, relative to the current folder.' });
    if (kind === 'other') throw new UserInputError('DATA_NOT_REGULAR', `--data ${path}: not a regular file or folder`, { hint: 'Pass files or folders of training data.' });
  }
  if (input.run) {
    const outputs = resolve(input.cwd, input.run.outputsDir);
    const kind = await statKind(outputs);
    if (kind !== 'missing' && kind !== 'directory') {
      throw new UserInputError('OUTPUTS_NOT_DIR', `--outputs ${input.run.outputsDir}: exists and is not a folder`, { hint: 'Pass the folder the training writes its outputs to.' });
    }
  }
}

/**
 * One --data path: every file hashed, and the manifest written beside the snapshot as sha256sum
 * writes it (`sha256sum -c` checks the data against it); the snapshot keeps the counts and the
 * digest only, so it stays small and quick to read whatever the size of the data.
 */
async function manifestOf(path: string, index: number, cwd: string, staged: StagedFolder, relToSnapshot: (p: string) => string, bundlePath: string, warnings: string[], signal?: AbortSignal): Promise<DataRecord> {
  const absolute = resolve(cwd, path);
  const manifest = await manifestOfPath(absolute, (rel, reason) => warnings.push(`--data ${path}: ${rel} is left out: ${reason}`), signal);
  const { files, text, kind } = manifest;
  const name = join('data', `${index}.sha256`);
  await staged.writeFile(name, text);
  return {
    path,
    absolute,
    // Placed once the repository's root is known (the git read runs alongside).
    in_repo: null,
    kind,
    file_count: files.length,
    total_bytes: files.reduce((sum, f) => sum + f.size, 0),
    digest: manifest.digest,
    manifest_file: relToSnapshot(join(bundlePath, name)),
  };
}

/** The training runs with the captured interpreter's folder first on PATH, as in its activated env. */
function runEnvironment(env: NodeJS.ProcessEnv, pythonExecutable: string, pythonPrefix: string, isVenv: boolean): NodeJS.ProcessEnv {
  const binDir = dirname(pythonExecutable);
  const next: NodeJS.ProcessEnv = { ...env, PATH: [binDir, env.PATH ?? ''].filter(Boolean).join(delimiter) };
  if (isVenv) next.VIRTUAL_ENV = pythonPrefix;
  return next;
}

/** A patch that could not be written: an error before anything runs, unless the user accepts the loss. */
function patchFailure(input: CaptureInput, where: string, error: string, warnings: string[]): void {
  const what = `the uncommitted changes in ${where} could not be saved as a patch: ${error}`;
  if (!input.allowMissingPatch) {
    throw new ExternalError('PATCH_NOT_SAVED', `${what}; without them the snapshot would name other code than the training ran`, {
      hint: 'Fix the cause (disk space, the repository) and capture again, or commit the changes first; --allow-missing-patch keeps a snapshot that records only the commit, and says so wherever it is used.',
    });
  }
  warnings.push(`${what}; the snapshot records only the commit, and show, dockerfile and replay will say the code is not the captured tree (--allow-missing-patch)`);
}

function codeWarnings(gitState: GitState, codeDir: string, warnings: string[]): void {
  if (gitState.git?.commit === null) {
    warnings.push(`${codeDir} is a git repository without a commit yet: the code cannot be rebuilt from git (${gitState.git.staged.length} staged, ${gitState.git.untracked.length} untracked files recorded); commit it and capture again`);
  }
  if (gitState.submoduleError !== null) {
    warnings.push(`the submodules could not all be listed: ${gitState.submoduleError}; those read from the index's gitlinks are recorded, nested ones may be missing`);
  }
  for (const sub of gitState.submodules) {
    if (sub.embedded && sub.initialized) warnings.push(`${sub.path} is a git repository inside the repository that .gitmodules does not name: recorded as a submodule at its checked-out commit ${sub.commit?.slice(0, 12) ?? '?'}; a clone elsewhere has no way to fetch it (git submodule add it)`);
    if (sub.untracked.length > 0) warnings.push(`submodule ${sub.path} has ${sub.untracked.length} untracked file(s) (${sub.untracked.slice(0, 3).join(', ')}${sub.untracked.length > 3 ? ', ...' : ''}): they are in no rebuild; commit them in the submodule or pass them with --data`);
    if (!sub.initialized) warnings.push(`submodule ${sub.path} is not initialized (git submodule update --init): the training ran without its files, and a rebuild will have none either`);
  }
  for (const file of gitState.largeFiles) {
    warnings.push(
      `${file.path} in the code repository is ${formatBytes(file.size)}${file.binary ? ' of binary data' : ''}: large files in the code are usually model weights or data; pass them with --data so they are hashed and mounted as data, and keep them out of git (or in git LFS) so they stay out of the image's code layer`,
    );
  }
}

function packageWarnings(packages: PackageRecord[], warnings: string[]): void {
  for (const pkg of packages) {
    if (pkg.source.kind !== 'index' && pkg.source.redacted) {
      warnings.push(`${pkg.name} ${pkg.version} was installed from a URL carrying signed-URL parameters (credentials): they were removed from the snapshot, so that URL will not download as recorded, and dockerfile leaves the package out`);
    }
  }
}

/**
 * Promise.all that waits for every step to end before it throws: the first failure, or an
 * InterruptedError when the signal was aborted meanwhile.
 */
async function settleAll<T extends readonly unknown[]>(steps: { [K in keyof T]: Promise<T[K]> }, signal: AbortSignal | undefined, what: string): Promise<T> {
  const settled = await Promise.allSettled(steps);
  if (signal?.aborted) throw new InterruptedError(signal, what);
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return settled.map((r) => (r as PromiseFulfilledResult<unknown>).value) as unknown as T;
}

export async function capture(input: CaptureInput): Promise<CaptureResult> {
  const snapshotPath = resolve(input.cwd, input.output);
  const bundlePath = besideSnapshot(snapshotPath, '.bundle');
  const relToSnapshot = (p: string) => relative(dirname(snapshotPath), p);
  await checkInputs(input, snapshotPath, bundlePath);
  const warnings: string[] = [];

  const interpreter = await chooseInterpreter(input.python, input.env);
  input.log(`probing ${interpreter.path} and this machine`);
  const codeDir = resolve(input.cwd, input.codeDir);
  // Staged from the start, so patches and manifests stream straight into it; discarded when nothing needs it.
  const staged = await StagedFolder.create(bundlePath);
  try {
    await staged.ensureDir('submodules');
    const dataStarted = performance.now();
    // Settled, not raced: after Ctrl-C every step must have stopped writing into the staging folder
    // before it is removed.
    const [python, raw, gitState, data] = await settleAll([
      runPythonProbe(interpreter, input.probeTimeoutMs, input.env, input.signal),
      collectSystem(input.probeTimeoutMs, input.signal),
      readGitState(codeDir, {
        timeoutMs: input.probeTimeoutMs,
        patchPath: staged.path('code.patch'),
        submodulePatchPath: (index) => staged.path('submodules', `${index}.patch`),
        signal: input.signal,
        onPatchProgress: (bytes, ms) => input.log(`saving the uncommitted changes as a patch: ${formatBytes(bytes)} so far (${Math.round(ms / 1000)} s)`),
      }),
      settleAll<DataRecord[]>(input.data.map((p, i) => manifestOf(p, i, input.cwd, staged, relToSnapshot, bundlePath, warnings, input.signal)), input.signal, 'hashing the data'),
    ] as const, input.signal, 'probing');
    if (input.signal?.aborted) throw new InterruptedError(input.signal, 'probing');
    const dataProbe: ProbeRecord = { status: 'ok', duration_ms: Math.round(performance.now() - dataStarted) };
    const repoRoot = gitState.git?.root ?? null;
    // git reports the root with links resolved: the paths are compared resolved too.
    const inRepo = async (path: string) => (repoRoot === null ? null : inside(repoRoot, await canonicalPath(path)));
    const placedData: DataRecord[] = [];
    for (const record of data) placedData.push({ ...record, in_repo: await inRepo(record.absolute as string) });
    const codeInRepo = await inRepo(codeDir);
    for (const message of python.output.errors) warnings.push(`python probe: ${message}`);
    // Decided before the training runs: a snapshot that only has the commit must be asked for.
    if (gitState.error !== null) patchFailure(input, codeDir, gitState.error, warnings);
    for (const sub of gitState.submodules) if (sub.error !== null) patchFailure(input, `submodule ${sub.path}`, sub.error, warnings);
    codeWarnings(gitState, codeDir, warnings);

    const frameworks = assembleFrameworks(python.output);
    const wheelHeaders = await readHeaders(python.output.cuda_wheel_files.cudnn_headers);
    const gpu = assembleGpu(raw, { headers: wheelHeaders, libraries: python.output.cuda_wheel_files.libraries, wheels: frameworks.nvidia_wheels });
    const system = assembleSystem(raw);
    const pythonInfo = assemblePython(python.output);
    const packages = assemblePackages(python.output);
    packageWarnings(packages, warnings);
    const findingRules = await loadFindingRules();
    const probes: Record<string, ProbeRecord> = { python: python.probe, ...systemProbeRecords(raw), git: gitState.probe };
    if (input.data.length > 0) probes.data = dataProbe;
    for (const [name, record] of Object.entries(probes)) {
      if (record.status === 'timeout' || record.status === 'error') warnings.push(`probe ${name}: ${record.status}${record.reason ? ` (${record.reason})` : ''}`);
    }

    const hasPatch = gitState.git?.dirty === true && gitState.patch !== null;
    if (!hasPatch) await removePath(staged.path('code.patch'));
    const submodules: SubmoduleRecord[] = gitState.submodules.map((sub) => ({
      path: sub.path,
      commit: sub.commit,
      url: sub.url,
      initialized: sub.initialized,
      dirty: sub.dirty,
      patch_file: sub.patch !== null && sub.patchPath !== null ? relToSnapshot(join(bundlePath, relative(staged.stagingPath, sub.patchPath))) : null,
      patch_sha256: sub.patch?.sha256 ?? null,
      patch_size: sub.patch?.size ?? null,
      patch_error: sub.error,
      untracked: sub.untracked,
    }));
    const subPatches = submodules.some((s) => s.patch_file !== null);
    if (!subPatches) await removePath(staged.path('submodules'));
    // The bundle is meant to be committed: git must never rewrite the patches' line endings.
    if (hasPatch || subPatches) await staged.writeFile('.gitattributes', '*.patch -text\n');
    // The training's environment, the same for its first run, the reload and every repeat.
    const trainingEnv = runEnvironment(input.env, pythonInfo.executable, pythonInfo.prefix, pythonInfo.environment === 'venv');
    const trained = input.run ? await runTraining(input, staged, snapshotPath, bundlePath, trainingEnv, relToSnapshot, inRepo, warnings) : null;
    const run = trained?.run ?? null;
    if (trained?.recorder) probes.recorder = trained.recorder;
    if (run !== null && run.status === 'succeeded' && input.reload !== false) {
      const started = performance.now();
      const reloaded = await reloadCapturedModels({ staged, bundlePath, relToSnapshot, python: pythonInfo.executable, env: trainingEnv, log: input.log, warnings, signal: input.signal });
      run.reload = reloaded.check;
      if (reloaded.check !== null || reloaded.problem !== null) probes.reload = reloaded.problem === null ? { status: 'ok', duration_ms: Math.round(performance.now() - started) } : { status: 'error', duration_ms: Math.round(performance.now() - started), reason: reloaded.problem.slice(0, 500) };
    }
    // Judged once the training ran: the rules read what the recorder saw too.
    const determinism = buildDeterminism(input.env, { frameworks, gpu, arch: system.arch, cpuFlags: system.cpu.flags, packages: packages.map((p) => p.name), record: run?.record ?? null }, findingRules);
    if (run !== null && run.status === 'succeeded' && input.repeat !== undefined && input.run !== undefined) {
      run.repeat = await runRepeats({
        runs: input.repeat.runs,
        outputsDir: resolve(input.cwd, input.run.outputsDir),
        baselineDir: staged.path('baseline'),
        firstRecord: run.record,
        findings: determinism.findings,
        env: determinism.env,
        policyPath: input.repeat.policyPath,
        cwd: input.cwd,
        explain: input.repeat.explain,
        explainBudget: input.repeat.explainBudget,
        record: input.record !== false,
        runAgain: (extraEnv, recordFile) => runAgain(input, trainingEnv, extraEnv, recordFile),
        readRecord: async (file) => (await readRecording(file)).record,
        progress: (line) => input.log(line),
      });
      input.log(`run to run: ${run.repeat.verdict}: ${run.repeat.message}`);
    }
    const needsBundle = run !== null || hasPatch || subPatches || data.length > 0;

    const snapshot: Snapshot = {
      schema: SCHEMA_VERSION,
      id: randomUUID(),
      created_at: new Date().toISOString(),
      tool: { name: 'snapshot', version: input.toolVersion },
      python: pythonInfo,
      packages,
      frameworks,
      gpu,
      system,
      determinism,
      code: {
        path: codeDir,
        repo_root: repoRoot,
        in_repo: codeInRepo,
        git: gitState.git
          ? {
              commit: gitState.git.commit,
              branch: gitState.git.branch,
              remote_url: gitState.git.remote_url,
              dirty: gitState.git.dirty,
              patch_file: hasPatch ? relToSnapshot(join(bundlePath, 'code.patch')) : null,
              patch_sha256: gitState.patch?.sha256 ?? null,
              patch_size: gitState.patch?.size ?? null,
              patch_error: gitState.error,
              staged: gitState.git.staged,
              untracked: gitState.git.untracked,
              submodules,
            }
          : null,
      },
      data: placedData,
      run,
      probes,
    };
    try {
      validateSnapshot(snapshot, 'the captured snapshot');
    } catch (error) {
      // What we assembled ourselves failing our own schema is our bug, not the user's input.
      throw new InternalError(error instanceof Error ? error.message : String(error), { cause: error });
    }
    if (needsBundle) await staged.commit(input.force);
    await writeFileAtomic(snapshotPath, serializeSnapshot(snapshot));
    // An old bundle this snapshot no longer has goes only once the new snapshot is in place.
    if (!needsBundle && input.force && (await pathExists(bundlePath))) await removePath(bundlePath);
    const result: CaptureResult = { snapshot, snapshotPath, bundlePath: needsBundle ? bundlePath : null, warnings };
    if (run && run.status === 'failed') {
      const how = run.signal ? `was killed by ${run.signal}` : `exited with code ${run.exit_code}`;
      throw new RunFailedError(`the training command ${how}; no baseline was kept`, result);
    }
    return result;
  } finally {
    // After a commit the staging folder is gone and this does nothing.
    await staged.discard();
  }
}

/** The training once more, as the first run had it (plus `extraEnv`), its output echoed but not kept: a repeat of capture --repeat. */
async function runAgain(input: CaptureInput, trainingEnv: NodeJS.ProcessEnv, extraEnv: Record<string, string>, recordFile: string | null): Promise<{ ok: boolean; why: string | null }> {
  const spec = input.run as NonNullable<CaptureInput['run']>;
  const base = { ...trainingEnv, ...extraEnv };
  const echo = input.echoRun ? input.echo : undefined;
  const outcome = await runShellCommand(spec.command, { cwd: input.cwd, env: recordFile === null ? base : withRecorder(base, RECORDER_DIR, recordFile), onStdout: (c) => echo?.(c), onStderr: (c) => echo?.(c), signal: input.signal });
  if (input.signal?.aborted) throw new InterruptedError(input.signal, 'a repeat of the training');
  if (outcome.failedToStart) return { ok: false, why: `it could not start: ${outcome.failedToStart}` };
  if (outcome.exitCode !== 0) return { ok: false, why: outcome.signal ? `it was killed by ${outcome.signal}` : `it exited with code ${outcome.exitCode}` };
  return { ok: true, why: null };
}

/** The recorder as a probe: ok with a record, error with why there is none or what it missed. */
function recorderProbe(record: RunRecording | null, problem: string | null): ProbeRecord {
  if (record !== null) return record.errors.length === 0 ? { status: 'ok', duration_ms: 0 } : { status: 'error', duration_ms: 0, reason: `${record.errors.length} hook(s) failed: ${record.errors[0]?.where ?? ''}: ${record.errors[0]?.message ?? ''}`.slice(0, 500) };
  return { status: 'error', duration_ms: 0, reason: (problem ?? 'no record').slice(0, 500) };
}

async function runTraining(
  input: CaptureInput,
  staged: StagedFolder,
  snapshotPath: string,
  bundlePath: string,
  baseEnv: NodeJS.ProcessEnv,
  relToSnapshot: (p: string) => string,
  inRepo: (path: string) => Promise<string | null>,
  warnings: string[],
): Promise<{ run: RunRecord; recorder: ProbeRecord | null }> {
  const spec = input.run as NonNullable<CaptureInput['run']>;
  const outputsDir = resolve(input.cwd, spec.outputsDir);
  if ((await statKind(outputsDir)) === 'directory' && !(await isEmptyFolder(outputsDir))) {
    warnings.push(`--outputs ${spec.outputsDir} already held files before the run; they become part of the baseline if the run leaves them there`);
  }
  // The command line is recorded verbatim in a file meant to be committed.
  const inline = inlineAssignments(spec.command);
  if (inline.length > 0) {
    warnings.push(`the --run command sets ${inline.join(', ')} inline, and the snapshot records the command verbatim: pass secrets through the environment instead`);
  }
  input.log(`running: ${spec.command}`);
  await staged.ensureDir('logs');
  const cap = input.logCapBytes ?? 1024 * 1024;
  const stdoutLog = new CappedLogFile(staged.path('logs', 'stdout.log'), cap, cap);
  const stderrLog = new CappedLogFile(staged.path('logs', 'stderr.log'), cap, cap);
  const echo = input.echoRun ? input.echo : undefined;
  // The recorder writes into a folder of its own, read and checked after the run.
  const recordDir = input.record === false ? null : await makeTempDir('snapshot-record-');
  const recordFile = recordDir === null ? null : join(recordDir, 'record.json');
  const outcome = await runShellCommand(spec.command, {
    cwd: input.cwd,
    env: recordFile === null ? baseEnv : withRecorder(baseEnv, RECORDER_DIR, recordFile),
    // Our own stdout stays clean for --json: the training's output is echoed to our stderr.
    onStdout: (chunk) => {
      stdoutLog.write(chunk);
      echo?.(chunk);
    },
    onStderr: (chunk) => {
      stderrLog.write(chunk);
      echo?.(chunk);
    },
    signal: input.signal,
  });
  const [outLog, errLog] = await Promise.all([stdoutLog.close(), stderrLog.close()]);
  let record: RunRecording | null = null;
  let recorder: ProbeRecord | null = null;
  if (recordFile !== null && recordDir !== null) {
    const reading = await readRecording(recordFile);
    await removePath(recordDir);
    record = reading.record;
    recorder = recorderProbe(reading.record, reading.problem);
    if (reading.problem !== null) warnings.push(`the recorder: ${reading.problem}; the snapshot has no record of what the training did`);
    else if (reading.record.errors.length > 0) warnings.push(`the recorder could not see everything: ${reading.record.errors.slice(0, 3).map((e) => `${e.where}: ${e.message}`).join('; ')}`);
  }
  if (input.signal?.aborted) {
    if (recordDir !== null) await removePath(recordDir).catch(() => undefined);
    throw new InterruptedError(input.signal, 'the training');
  }
  if (outcome.failedToStart) {
    throw new UserInputError('RUN_NOT_STARTED', `--run ${spec.command}: could not start: ${outcome.failedToStart}`, { hint: 'Check the command line.' });
  }
  for (const [name, log] of [
    ['stdout', outLog],
    ['stderr', errLog],
  ] as const) {
    if (log.truncated) warnings.push(`the training wrote ${formatBytes(log.bytes)} to ${name}: the bundle keeps its first and last ${formatBytes(cap)} (logs/${name}.log says where the cut is)`);
  }
  const succeeded = outcome.exitCode === 0;
  let baseline: RunRecord['baseline'] = null;
  if (succeeded) {
    if ((await statKind(outputsDir)) !== 'directory') {
      warnings.push(`the run succeeded but wrote no --outputs folder ${spec.outputsDir}; the baseline is empty`);
      baseline = { dir: relToSnapshot(join(bundlePath, 'baseline')), files: [] };
    } else {
      const listed = await walkFiles(outputsDir, (rel, reason) => warnings.push(`--outputs ${spec.outputsDir}: ${rel} is not kept in the baseline: ${reason}`));
      // A snapshot written inside --outputs: its own file, bundle and staging are not outputs.
      const ours = (p: string) => p === snapshotPath || isInside(bundlePath, p) || isInside(staged.stagingPath, p) || (dirname(p) === dirname(snapshotPath) && basename(p).startsWith(`.${basename(snapshotPath)}.`));
      const kept = listed.filter((file) => !ours(String(file.absolutePath)));
      if (kept.length < listed.length) warnings.push(`--outputs ${spec.outputsDir} holds the snapshot and its bundle: they are not part of the baseline`);
      const hashed: FileEntry[] = [];
      for (const file of kept) hashed.push({ path: file.relativePath, ...(await staged.copyInHashed(String(file.absolutePath), join('baseline', file.relativePath))) });
      if (hashed.length === 0) warnings.push(`the run succeeded but --outputs ${spec.outputsDir} is empty; the baseline is empty`);
      baseline = { dir: relToSnapshot(join(bundlePath, 'baseline')), files: hashed.map((f) => ({ ...f, kind: outputKind(f.path) })) };
    }
  }
  const run: RunRecord = {
    command: spec.command,
    cwd: input.cwd,
    cwd_in_repo: await inRepo(input.cwd),
    exit_code: outcome.exitCode,
    signal: outcome.signal,
    duration_ms: outcome.durationMs,
    started_at: outcome.startedAt.toISOString(),
    status: succeeded ? 'succeeded' : 'failed',
    stdout_log: relToSnapshot(join(bundlePath, 'logs', 'stdout.log')),
    stderr_log: relToSnapshot(join(bundlePath, 'logs', 'stderr.log')),
    stdout_bytes: outLog.bytes,
    stderr_bytes: errLog.bytes,
    logs_truncated: outLog.truncated || errLog.truncated,
    outputs_dir: spec.outputsDir,
    outputs_path: outputsDir,
    outputs_in_repo: await inRepo(outputsDir),
    baseline,
    record,
    repeat: null,
    reload: null,
  };
  return { run, recorder };
}
