// `snapshot replay`: the pipeline, written once for every engine. Environment ready -> verify data
// -> run -> collect -> probe again -> compare -> explain. The engine (Docker, a local venv...) is a
// ReplayBackend handed in through `deps`, with the clock and the event sink, so the whole pipeline
// is unit-tested with typed fakes and exercised for real in test/docker.
import { randomBytes, randomUUID } from 'node:crypto';
import { dirname, join, resolve } from 'node:path';
import { assembleFrameworks, assembleGpu, assemblePackages, assemblePython, assembleSystem, systemProbeRecords } from '../core/assemble.js';
import type { GpuRequest } from '../core/container-engine.js';
import { buildDeterminism } from '../core/determinism.js';
import type { Snapshot } from '../core/model.js';
import { besideSnapshot } from '../core/paths.js';
import type { DoctorCheck, EventSink, PreparedEnvironment, ProbedEnvironment, ReplayBackend, ReplayStage, RunResult } from '../core/replay/backend.js';
import { parseEnvFlags, replayEnvironment } from '../core/replay/environment.js';
import { explain } from '../core/replay/explain.js';
import { parseDataRoots, placeReplay, type ReplayLayout } from '../core/replay/layout.js';
import { REPLAY_REPORT_VERSION, replayExitCode, type ReplayDataRecord, type ReplayFailure, type ReplayReport, type ReplayRunRecord, type ReplayVerdict } from '../core/replay/report.js';
import { diffSnapshots, sortDifferences } from '../core/snapshot-diff.js';
import { jsonSafe, type CompareReport } from '../core/compare/model.js';
import { ExitCode, InternalError, InterruptedError, SnapshotError, UserInputError } from '../errors.js';
import { CappedLogFile, isEmptyFolder, makeDir, makeDirExclusive, readTextTail, removePath, statKind, writeFileAtomic } from '../adapters/fs.js';
import { readSnapshot, serializeSnapshot, validateSnapshot } from '../adapters/snapshot-file.js';
import { loadFindingRules } from '../adapters/package-files.js';
import type { FindingRules } from '../core/findings.js';
import { compareOutputs, warmReaders } from './compare.js';
import { readRecording } from '../adapters/probes/recorder.js';
import { diffRecordings } from '../core/recording-diff.js';
import { findingsFor } from '../core/determinism.js';
import type { ReplayReload } from '../core/replay/report.js';
import { planReplayReload, reloadBaselineModels, type ReplayReloadPlan } from './reload.js';
import { verifyData } from './data-manifest.js';
import { locateRepository, type LocatedRepository } from './replay-code.js';

export interface ReplayInput {
  snapshotPath: string;
  cwd: string;
  /** --code DIR: the repository to take the code from. */
  codeDir?: string;
  /** --data-root CAPTURED=HERE values. */
  dataRoots: string[];
  /** --env KEY=VALUE values. */
  env: string[];
  policyPath?: string;
  /** --output-dir: the replay's own folder (default <snapshot>.replays/<id>/). */
  outputDir?: string;
  timeoutMs: number | null;
  /** --gpus as given; undefined: what the snapshot had (all of them when it had GPUs, else none). */
  gpus?: string;
  verifyData: boolean;
  toolVersion: string;
  /** Run the recorder in the replay's training (default on; --no-record). */
  record?: boolean;
  /** Load the baseline's saved models in the replay environment and compare their predictions (default on; --no-reload). */
  reload?: boolean;
}

/** What the snapshot and its code are, handed to the engine that will replay them. */
export interface ReplaySubject {
  /** The replay's id: its folder's name, and the label on everything it makes. */
  id: string;
  snapshotPath: string;
  snapshot: Snapshot;
  repository: LocatedRepository;
  /** The replay's own folder: the engine may keep what it makes there (a build log). */
  folder: string;
  gpus: GpuRequest;
}

export interface ReplayDeps {
  openBackend(subject: ReplaySubject): Promise<ReplayBackend>;
  events: EventSink;
  now: () => Date;
  /** Hears of the engine's cleanup once there is one: a forced exit (a second Ctrl-C) runs it. */
  registerCleanup?: (cleanup: () => Promise<void>) => void;
  signal?: AbortSignal;
  /** Bytes of each training log kept at its head and its tail (default 1 MiB). */
  logCapBytes?: number;
}

/** A replay that stops at a stage: the verdict is `error`, the failure says where and why. */
class StageFailure extends Error {
  constructor(readonly failure: ReplayFailure) {
    super(failure.message);
  }
}

function failure(stage: ReplayStage, kind: ReplayFailure['kind'], code: string, message: string, hint: string | null = null, logTail: string[] = []): StageFailure {
  return new StageFailure({ stage, kind, code, message, hint, log_tail: logTail });
}

/** --gpus all | none | N | device=ID[,ID...]; without it, what the snapshot had. */
export function parseGpus(value: string | undefined, snapshot: Snapshot | null): GpuRequest {
  if (value === undefined) return snapshot?.gpu.available ? { kind: 'all' } : { kind: 'none' };
  if (value === 'all') return { kind: 'all' };
  if (value === 'none') return { kind: 'none' };
  if (/^[1-9]\d{0,2}$/.test(value)) return { kind: 'count', count: Number(value) };
  const devices = /^device=([A-Za-z0-9-]+(?:,[A-Za-z0-9-]+)*)$/.exec(value);
  if (devices) return { kind: 'devices', ids: (devices[1] as string).split(',') };
  throw new UserInputError('GPUS_INVALID', `--gpus ${JSON.stringify(value).slice(0, 80)}: expected all, none, a count, or device=ID[,ID...]`, { hint: 'For example --gpus all, --gpus 2, --gpus device=0,1 or --gpus none (CPU only).' });
}

export function describeGpus(gpus: GpuRequest): string {
  return gpus.kind === 'count' ? String(gpus.count) : gpus.kind === 'devices' ? `device=${gpus.ids.join(',')}` : gpus.kind;
}

/** A timestamp and a random tail: sorts by time, never collides. */
function replayId(now: Date): string {
  return `${now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-${randomBytes(3).toString('hex')}`;
}

/** One event line at most this long: a progress bar that never ends its line is passed on in pieces. */
const MAX_EVENT_LINE = 16 * 1024;

/**
 * Splits chunks into lines for the event sink (a carriage return ends one too: progress bars
 * redraw with it); the last partial line waits for its end, up to MAX_EVENT_LINE.
 */
function lineSplitter(emit: (line: string) => void): { push(chunk: Buffer): void; end(): void } {
  let pending = '';
  return {
    push(chunk) {
      pending += chunk.toString('utf8');
      const lines = pending.split(/\r\n|\n|\r/);
      pending = lines.pop() ?? '';
      for (const line of lines) if (line !== '') emit(line);
      while (pending.length > MAX_EVENT_LINE) {
        emit(pending.slice(0, MAX_EVENT_LINE));
        pending = pending.slice(MAX_EVENT_LINE);
      }
    },
    end() {
      if (pending !== '') emit(pending);
      pending = '';
    },
  };
}

/** The replay's environment in the snapshot format: what the probes found where the training ran. */
export function replayedSnapshot(probed: ProbedEnvironment, captured: Snapshot, env: Record<string, string>, codeRoot: string, now: Date, toolVersion: string, rules: FindingRules): Snapshot {
  const frameworks = assembleFrameworks(probed.python);
  const packages = assemblePackages(probed.python);
  const gpu = assembleGpu(probed.host.raw, { headers: [], libraries: probed.python.cuda_wheel_files?.libraries ?? [], wheels: frameworks.nvidia_wheels });
  const system = assembleSystem(probed.host.raw);
  return {
    schema: captured.schema,
    id: randomUUID(),
    created_at: now.toISOString(),
    tool: { name: 'snapshot', version: toolVersion },
    python: assemblePython(probed.python),
    packages,
    frameworks,
    gpu,
    system,
    determinism: buildDeterminism(env, { frameworks, gpu, arch: system.arch, cpuFlags: system.cpu.flags, packages: packages.map((p) => p.name) }, rules),
    // The replay ran the captured commit and patch: the code is the captured code, placed at codeRoot.
    code: captured.code === null ? null : { ...captured.code, path: codeRoot, repo_root: codeRoot },
    data: captured.data,
    run: null,
    probes: { python: { status: 'ok', duration_ms: 0 }, ...systemProbeRecords(probed.host.raw) },
  };
}

function tail(text: string, lines = 20): string[] {
  return text.split('\n').filter((l) => l.trim() !== '').slice(-lines).map((l) => l.slice(0, 500));
}

export async function replay(input: ReplayInput, deps: ReplayDeps): Promise<ReplayReport> {
  const started = deps.now();
  const t0 = performance.now();
  const snapshotPath = resolve(input.cwd, input.snapshotPath);
  const snapshot = await readSnapshot(snapshotPath);
  const findingRules = await loadFindingRules();
  if (snapshot.run === null || snapshot.run.baseline === null) {
    throw new UserInputError('NOTHING_TO_REPLAY', `nothing to replay: ${snapshotPath} ${snapshot.run === null ? 'has no run' : 'has no baseline (its run failed)'}`, {
      hint: 'Capture with --run "python train.py" --outputs out/ so the training and its outputs are recorded.',
    });
  }
  // What the snapshot names of its saved models is placed before anything is built: a path that leads out is refused first.
  const reloadPlan = await planReplayReload(snapshot, snapshotPath);
  // Flags are checked before anything is built.
  const userEnv = parseEnvFlags(input.env);
  const dataRoots = parseDataRoots(input.dataRoots, input.cwd);
  const gpus = parseGpus(input.gpus, snapshot);
  const repository = await locateRepository(snapshot, snapshotPath, { codeDir: input.codeDir, cwd: input.cwd, signal: deps.signal });
  const id = replayId(started);
  const folder = input.outputDir !== undefined ? resolve(input.cwd, input.outputDir) : join(besideSnapshot(snapshotPath, '.replays'), id);
  // Never over anything the user had: the folder is new, or refused.
  const parentExisted = (await statKind(dirname(folder))) === 'directory';
  await makeDir(dirname(folder));
  await makeDirExclusive(folder, '--output-dir');
  /** A replay that ends in an input error or Ctrl-C keeps nothing, not even an empty <snapshot>.replays/. */
  const discardFolder = async () => {
    await removePath(folder);
    if (!parentExisted && (await isEmptyFolder(dirname(folder)))) await removePath(dirname(folder));
  };

  const warnings: string[] = [...repository.warnings];
  const events: EventSink = (event) => {
    if (event.type === 'warning') warnings.push(event.message);
    deps.events(event);
  };
  const environment = replayEnvironment(snapshot, gpus.kind === 'none' ? 'cpu' : 'gpu', userEnv);
  for (const warning of environment.warnings) warnings.push(warning);
  const hardwareCrossed = snapshot.gpu.available !== (gpus.kind !== 'none');
  const durations = { doctor_ms: 0, prepare_ms: 0, verify_ms: 0, run_ms: 0, probe_ms: 0, compare_ms: 0, reload_ms: 0, total_ms: 0 };
  const timed = async <T>(key: keyof typeof durations, work: () => Promise<T>): Promise<T> => {
    const at = performance.now();
    try {
      return await work();
    } finally {
      durations[key] += Math.round(performance.now() - at);
    }
  };
  const checkAborted = (what: string) => {
    if (deps.signal?.aborted) throw new InterruptedError(deps.signal, what);
  };

  const report: ReplayReport = {
    report_version: REPLAY_REPORT_VERSION,
    id,
    verdict: 'error',
    exit_code: 0,
    conclusion: '',
    snapshot: { path: snapshotPath, id: snapshot.id, created_at: snapshot.created_at },
    folder,
    started_at: started.toISOString(),
    engine: { kind: 'unknown', where: '', facts: {}, reason: null },
    doctor: [],
    environment: { facts: {}, env: environment.env, gpus: describeGpus(gpus), hardware_crossed: hardwareCrossed, file: null },
    data: { verified: false, skipped: !input.verifyData, records: [], modified_by_run: [] },
    run: null,
    compare: null,
    differences: [],
    record: { recorded: null, problem: null, baseline_recorded: (snapshot.run?.record ?? null) !== null },
    baseline: { repeat: snapshot.run?.repeat ?? null, findings: findingsFor(snapshot, findingRules) },
    reload: null,
    causes: [],
    failure: null,
    durations,
    warnings,
  };

  let backend: ReplayBackend | null = null;
  let prepared: PreparedEnvironment | null = null;
  const inFlight: Array<Promise<unknown>> = [];
  let interrupted = false;
  let current: ReplayStage = 'doctor';
  const stage = (name: ReplayStage, message: string) => {
    current = name;
    events({ type: 'stage', stage: name, message });
  };
  try {
    backend = await deps.openBackend({ id, snapshotPath, snapshot, repository, folder, gpus });
    const opened = backend;
    deps.registerCleanup?.(() => opened.dispose(prepared));
    report.engine = { kind: backend.kind, where: backend.where, facts: {}, reason: backend.reason ?? null };
    if (backend.reason) events({ type: 'engine', kind: backend.kind, reason: backend.reason });
    // Placed before anything is built: a path in the snapshot that cannot be placed safely is refused first.
    const layout: ReplayLayout = placeReplay(snapshot, backend.codeRoot, repository.root, dataRoots, repository.subdir);
    warnings.push(...layout.warnings);
    // A snapshot names any path it likes: outside the repository, only data whose digest matched
    // (or that the user mapped) is mounted into the training, never an unchecked host path.
    const unmapped = input.verifyData ? [] : layout.data.filter((d) => d.how === 'at its captured path');
    if (unmapped.length > 0) {
      throw new UserInputError('DATA_NOT_MAPPED', `--no-verify-data: data ${unmapped.map((d) => d.captured).join(', ')} lies outside the repository and would be mounted from ${unmapped.map((d) => d.source).join(', ')} unchecked`, {
        hint: `Map it with --data-root ${unmapped[0]?.source ?? '/captured'}=/where/it/is (then it is mounted from there), or let replay verify it.`,
      });
    }
    if (hardwareCrossed) events({ type: 'warning', message: snapshot.gpu.available ? `the snapshot was captured on ${snapshot.gpu.devices.length} GPU(s) and replays on CPU (--gpus none): the comparison crosses hardware classes` : 'the snapshot was captured without a GPU and replays on GPUs: the comparison crosses hardware classes' });

    stage('doctor', `checking ${backend.kind} at ${backend.where}`);
    const checks: DoctorCheck[] = await timed('doctor_ms', () => (backend as ReplayBackend).check(snapshot, gpus, layout));
    report.doctor = checks;
    const failed = checks.find((c) => c.status === 'fail');
    if (failed) throw failure('doctor', 'could-not-run', 'DOCTOR_FAILED', `${failed.name}: ${failed.message}`, 'Run `snapshot doctor` for every check; fix the failing one and replay again.');
    for (const check of checks.filter((c) => c.status === 'warn')) events({ type: 'warning', message: `${check.name}: ${check.message}` });
    checkAborted('the checks');

    stage('prepare', `preparing the environment (${backend.kind})`);
    prepared = await timed('prepare_ms', () => (backend as ReplayBackend).prepare(events, deps.signal));
    report.environment.facts = prepared.facts;
    checkAborted('the build');


    stage('verify-data', input.verifyData ? `checking ${layout.data.length} data path(s) against their captured sha256` : 'data not checked (--no-verify-data)');
    await timed('verify_ms', async () => {
      for (const placed of layout.data) {
        const record = snapshot.data[placed.index] as Snapshot['data'][number];
        const entry: ReplayDataRecord = { path: placed.captured, source: placed.source, target: placed.target, how: placed.how, status: 'not-verified', files: null };
        report.data.records.push(entry);
        if (!input.verifyData) continue;
        const check = await verifyData(record, placed.source, snapshotPath, deps.signal);
        checkAborted('checking the data');
        if (check.status === 'verified') {
          entry.status = 'verified';
          entry.files = check.files;
          continue;
        }
        entry.status = check.status;
        throw failure('verify-data', 'not-judged', check.status === 'missing' ? 'DATA_MISSING' : 'DATA_MISMATCH', check.message, check.status === 'missing' ? `Put the data there, or map its captured folder with --data-root ${placed.captured.startsWith('/') ? placed.captured : '/captured/path'}=/where/it/is/here.` : 'Restore the data the baseline was trained on, or pass --no-verify-data to replay anyway (the report then says the data was not checked).');
      }
      report.data.verified = input.verifyData;
    });

    stage('run', `running: ${snapshot.run.command}`);
    const logs = join(folder, 'logs');
    const outputs = join(folder, 'outputs');
    await makeDir(logs);
    await makeDir(outputs);
    const recordTo = input.record === false ? null : join(folder, 'record');
    if (recordTo !== null) await makeDir(recordTo);
    const cap = deps.logCapBytes ?? 1024 * 1024;
    const stdoutLog = new CappedLogFile(join(logs, 'stdout.log'), cap, cap);
    const stderrLog = new CappedLogFile(join(logs, 'stderr.log'), cap, cap);
    const stdoutLines = lineSplitter((text) => events({ type: 'log', stream: 'stdout', text }));
    const stderrLines = lineSplitter((text) => events({ type: 'log', stream: 'stderr', text }));
    // The readers the comparison needs load while the training runs, not after it.
    const warming = warmReaders((snapshot.run?.baseline?.files ?? []).map((f) => f.path));
    const result: RunResult = await timed('run_ms', async () => {
      try {
        return await (backend as ReplayBackend).run(
          prepared as PreparedEnvironment,
          {
            command: (snapshot.run as NonNullable<Snapshot['run']>).command,
            workdir: layout.workdir,
            env: environment.env,
            data: layout.data.map((d) => ({ source: d.source, target: d.target })),
            outputsPath: layout.outputsPath,
            collectTo: outputs,
            timeoutMs: input.timeoutMs,
            gpus,
            ...outputBounds(snapshot),
            recordTo: recordTo,
          },
          {
            onStdout: (chunk) => {
              stdoutLog.write(chunk);
              stdoutLines.push(chunk);
            },
            onStderr: (chunk) => {
              stderrLog.write(chunk);
              stderrLines.push(chunk);
            },
          },
          events,
          deps.signal,
        );
      } finally {
        stdoutLines.end();
        stderrLines.end();
        await Promise.all([stdoutLog.close(), stderrLog.close()]);
      }
    });
    checkAborted('the training');
    report.run = runRecord(snapshot, layout, result, folder);
    if (recordTo !== null) {
      const reading = await readRecording(join(recordTo, 'record.json'));
      report.record.recorded = reading.record;
      report.record.problem = reading.problem;
      if (reading.problem !== null) events({ type: 'warning', message: `the recorder: ${reading.problem}; what the training did is not compared` });
    }
    // An engine that lets the training read its data in place: the data is checked again, and a
    // training that changed its own input is said (the next run of it would train on other data).
    if (input.verifyData && backend.isolatesData === false && report.data.verified) {
      await timed('verify_ms', async () => {
        for (const placed of layout.data) {
          const check = await verifyData(snapshot.data[placed.index] as Snapshot['data'][number], placed.source, snapshotPath, deps.signal);
          checkAborted('checking the data');
          if (check.status === 'verified') continue;
          report.data.modified_by_run.push(placed.captured);
          events({ type: 'warning', message: `the training changed its input data ${placed.captured} (${placed.source}): ${check.message}; a next run trains on other data` });
        }
      });
    }
    for (const skipped of result.skipped ?? []) events({ type: 'warning', message: `output ${skipped.path} is left out: ${skipped.why}` });
    const untouched = result.untouched ?? [];
    if (untouched.length > 0) {
      events({ type: 'warning', message: `${untouched.length} file(s) in the outputs folder were not written by the training (the code at the captured commit already held them) and are not counted as its outputs: ${untouched.slice(0, 5).join(', ')}${untouched.length > 5 ? ', ...' : ''}` });
    }
    const logTail = tail(await readTextTail(join(logs, 'stderr.log')), 20);
    if (result.timedOut) throw failure('run', 'not-judged', 'RUN_TIMEOUT', `the training did not finish within --timeout (${Math.round((input.timeoutMs ?? 0) / 1000)} s) and was stopped`, 'Raise --timeout, or check the log for a hang.', logTail);
    if (result.oomKilled) throw failure('run', 'not-judged', 'RUN_OUT_OF_MEMORY', `the training was killed for lack of memory (out of memory) after ${Math.round(result.durationMs / 1000)} s`, "Give the engine more memory, or lower the training's batch size.", logTail);
    if (result.exitCode !== 0) {
      const how = result.signal ? `was killed by ${result.signal}` : `exited with code ${result.exitCode}`;
      throw failure('run', 'not-judged', 'RUN_FAILED', `the training ${how}`, `See ${join(logs, 'stderr.log')}.`, logTail);
    }

    // The comparison needs only the outputs, the probe only the environment: the comparison runs
    // here while the probe's Python runs there, and is awaited after it (settled even when the
    // probe fails, so nothing reads the folder once it is discarded).
    const comparing = timed('compare_ms', async () => {
      await warming;
      return compareOutputs({ baseline: snapshotPath, candidate: outputs, policyPath: input.policyPath, cwd: input.cwd });
    });
    // The saved models' reload runs beside the probe too: both are Python in the environment.
    const reloading = timed('reload_ms', () => replayReload(reloadPlan, input, backend as ReplayBackend, prepared as PreparedEnvironment, environment.env, gpus, snapshot, snapshotPath, folder, deps.signal));
    // Whatever ends the replay from here, both are settled before the engine is disposed of and
    // the folder discarded: nothing may still write into it, or start a container, after that.
    inFlight.push(comparing, reloading);
    for (const work of inFlight) work.catch(() => undefined);
    stage('probe', 'probing the environment the training ran in');
    const probed: ProbedEnvironment = await timed('probe_ms', () => (backend as ReplayBackend).probe(prepared as PreparedEnvironment, gpus, environment.env, deps.signal));
    checkAborted('probing');
    // The environment the training had as the engine saw it (an image's own ENV included), else ours.
    const replayed = replayedSnapshot(probed, snapshot, probed.env ?? environment.env, (backend as ReplayBackend).codeRoot, deps.now(), input.toolVersion, findingRules);
    try {
      validateSnapshot(replayed, 'the replay environment');
      await writeFileAtomic(join(folder, 'environment.yaml'), serializeSnapshot(replayed));
      report.environment.file = join(folder, 'environment.yaml');
    } catch (error) {
      // What the environment answered is untrusted: one that does not make a valid snapshot is
      // kept out of the record, and the comparison of the outputs still stands.
      events({ type: 'warning', message: `the replay environment could not be recorded: ${error instanceof Error ? error.message : String(error)}` });
    }
    // What the training did (its record) is compared with the baseline's beside its environment.
    report.differences = sortDifferences([...diffSnapshots(snapshot, replayed), ...diffRecordings(snapshot.run?.record, report.record.recorded)]);

    stage('compare', `comparing ${result.outputs?.length ?? 0} output(s) with the baseline${input.policyPath ? ` under ${input.policyPath}` : ' bit for bit'}`);
    const compared = await comparing;
    if (reloadPlan !== null) stage('reload', `reloading the baseline's ${reloadPlan.models.length} saved model(s) in the replay environment`);
    report.reload = await reloading;
    for (const warning of compared.warnings) events({ type: 'warning', message: warning });
    report.compare = compared.report;
    stage('explain', `verdict: ${compared.report.verdict}`);
    if (compared.report.verdict === 'error') {
      const broken = compared.report.outputs.filter((o) => o.status === 'error').map((o) => `${o.path}: ${o.message ?? 'unreadable'}`);
      report.failure = { stage: 'compare', kind: 'not-judged', code: 'OUTPUTS_NOT_JUDGED', message: `the outputs could not be judged: ${broken.slice(0, 3).join('; ') || 'nothing was compared'}`, hint: null, log_tail: [] };
    }
    checkAborted('the comparison');
    return await finish(report, compared.report.verdict, snapshot, hardwareCrossed, input, t0, result.outputs === null ? layout.outputsPath : null, untouched);
  } catch (error) {
    if (error instanceof InterruptedError) {
      interrupted = true;
      throw error;
    }
    if (error instanceof StageFailure) report.failure = error.failure;
    else if (error instanceof SnapshotError && !(error instanceof UserInputError)) {
      // The engine's own errors (unreachable, a failed build step, no GPU runtime, a container
      // that could not start) are the replay's verdict `error`, with the record kept. What the
      // user must change (a flag, a crafted snapshot) stays an input error, and nothing is kept.
      // The outputs' archive (unsafe, broken, too large) ran but cannot be judged: 7, not 6.
      const collecting = error.code.startsWith('OUTPUT_');
      const couldNotRun = current === 'doctor' || current === 'prepare' || (current === 'run' && error.exitCode === ExitCode.external && !collecting);
      const logTail = Array.isArray(error.data?.logTail) ? (error.data.logTail as unknown[]).map(String) : [];
      report.failure = { stage: current, kind: couldNotRun ? 'could-not-run' : 'not-judged', code: error.code, message: error.message, hint: error.hint ?? null, log_tail: logTail };
    } else {
      await discardFolder();
      throw error;
    }
    return finish(report, 'error', snapshot, hardwareCrossed, input, t0);
  } finally {
    await Promise.allSettled(inFlight);
    await backend?.dispose(prepared).catch(() => undefined);
    // Ctrl-C: nothing of a half-made replay is kept.
    if (interrupted) await discardFolder();
  }
}

/**
 * The baseline's saved models, loaded in the replay environment: null when the baseline has no
 * reload check; skipped with why; an answer that cannot be judged is the reload's error, not the
 * replay's (the outputs' verdict stands on its own).
 */
async function replayReload(plan: ReplayReloadPlan | null, input: ReplayInput, backend: ReplayBackend, prepared: PreparedEnvironment, runEnv: Record<string, string>, gpus: GpuRequest, snapshot: Snapshot, snapshotPath: string, folder: string, signal?: AbortSignal): Promise<ReplayReload | null> {
  if (plan === null) return null;
  const skipped = (why: string): ReplayReload => ({ status: 'skipped', message: `the saved models were not reloaded: ${why}`, duration_ms: 0, import_ms: null, models: [] });
  if (input.reload === false) return skipped('--no-reload');
  const runner = backend.reloader?.(prepared, plan.baselineDir, runEnv, gpus) ?? { unavailable: `the ${backend.kind} engine cannot run the reload check` };
  if ('unavailable' in runner) return skipped(runner.unavailable);
  const policy = input.policyPath === undefined ? null : await (await import('../adapters/policy-file.js')).readPolicy(resolve(input.cwd, input.policyPath));
  try {
    return await reloadBaselineModels({ snapshot, snapshotPath, plan, execute: runner.execute, modelPath: runner.modelPath, outDir: join(folder, 'reload'), policy, signal });
  } catch (error) {
    // Ctrl-C and our own bugs are not the reload's verdict.
    if (error instanceof SnapshotError && !(error instanceof UserInputError) && !(error instanceof InterruptedError) && !(error instanceof InternalError)) return { status: 'error', message: `the saved-model reload check could not be judged: ${error.message}`, duration_ms: 0, import_ms: null, models: [] };
    throw error;
  }
}

async function finish(report: ReplayReport, verdict: ReplayVerdict, snapshot: Snapshot, hardwareCrossed: boolean, input: ReplayInput, t0: number, noOutputsAt: string | null = null, untouched: string[] = []): Promise<ReplayReport> {
  report.verdict = verdict;
  report.exit_code = replayExitCode(verdict, report.failure);
  const explained = explain({ verdict, differences: report.differences, snapshot, failure: report.failure, hardwareCrossed, dataUnverified: !input.verifyData, noOutputsAt, untouched });
  report.causes = explained.causes;
  report.conclusion = explained.conclusion;
  report.durations.total_ms = Math.round(performance.now() - t0);
  await writeFileAtomic(join(report.folder, 'replay.json'), `${JSON.stringify(replayJson(report), null, 2)}\n`);
  return report;
}

/** The report as JSON carries it: NaN, infinities, -0 and big integers in the comparison as strings. */
export function replayJson(report: ReplayReport): ReplayReport {
  return { ...report, compare: report.compare === null ? null : (jsonSafe(report.compare) as CompareReport) };
}

/**
 * What a replay collects at most: well above what the baseline holds (four times, and at least
 * 1 GiB and 10,000 files), so a training that writes without end cannot fill this disk.
 */
export function outputBounds(snapshot: Snapshot): { maxOutputBytes: number; maxOutputFiles: number } {
  const files = snapshot.run?.baseline?.files ?? [];
  const bytes = files.reduce((sum, f) => sum + (Number.isFinite(f.size) ? f.size : 0), 0);
  return { maxOutputBytes: Math.max(4 * bytes, 1024 ** 3), maxOutputFiles: Math.max(4 * files.length, 10_000) };
}

function runRecord(snapshot: Snapshot, layout: ReplayLayout, result: RunResult, folder: string): ReplayRunRecord {
  return {
    command: (snapshot.run as NonNullable<Snapshot['run']>).command,
    workdir: layout.workdir,
    exit_code: result.exitCode,
    signal: result.signal,
    oom_killed: result.oomKilled,
    timed_out: result.timedOut,
    started_at: result.startedAt,
    duration_ms: result.durationMs,
    stdout_log: join(folder, 'logs', 'stdout.log'),
    stderr_log: join(folder, 'logs', 'stderr.log'),
    outputs: result.outputs?.length ?? null,
  };
}
